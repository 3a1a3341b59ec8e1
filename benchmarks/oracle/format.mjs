// citation-js reads a .bib file and citeproc-js formats each entry in each style: the
// second oracle of benchmarks/oracle.py. Reads {"bib": path, "styles": {name: csl path}}
// on stdin; writes {"items": {key: csl item}, "references": {style: {key: text}}}; an entry
// citation-js cannot parse is left out.
import { readFileSync } from "node:fs";
import { Cite, plugins } from "@citation-js/core";
import "@citation-js/plugin-bibtex";
import "@citation-js/plugin-csl";

const request = JSON.parse(readFileSync(0, "utf8"));
const templates = plugins.config.get("@csl").templates;
for (const [name, path] of Object.entries(request.styles)) {
  templates.add(name, readFileSync(path, "utf8"));
}
// Entry by entry: citation-js gives up on a whole file for one entry it cannot parse.
const text = readFileSync(request.bib, "utf8");
const blocks = request.bib.endsWith(".json") ? [] : ("\n" + text).split(/\n(?=@)/);
const shared = blocks.filter((block) => /^@(string|preamble)\b/i.test(block)).join("\n");
const items = {};
if (request.bib.endsWith(".json")) {
  for (const item of JSON.parse(text)) {
    try {
      for (const read of (await Cite.async([item])).data) items[read["citation-key"] ?? read.id] = read;
    } catch (error) {
      // not read by citation-js: the item has no second oracle
    }
  }
}
for (const block of blocks.filter((block) => /^@(?!string|preamble|comment)\w+\s*[{(]/i.test(block))) {
  try {
    for (const item of (await Cite.async(shared + "\n" + block)).data) items[item["citation-key"] ?? item.id] = item;
  } catch (error) {
    // not read by citation-js: the entry has no second oracle
  }
}
const references = {};
for (const name of Object.keys(request.styles)) {
  references[name] = {};
  for (const [key, item] of Object.entries(items)) {
    try {
      references[name][key] = new Cite(item).format("bibliography", { format: "text", template: name, lang: "en-US" }).trim();
    } catch (error) {
      references[name][key] = null;
    }
  }
}
process.stdout.write(JSON.stringify({ items, references }));
