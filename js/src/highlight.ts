/**
 * Highlights arrive as escaped HTML holding only <mark> tags. They are turned into DOM
 * nodes here without innerHTML, so paper text can never become markup.
 */
const ENTITIES: { [name: string]: string } = {
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#x27;': "'",
  '&#39;': "'",
  '&amp;': '&'
};

export function decodeEntities(text: string): string {
  return text.replace(/&(?:lt|gt|quot|amp|#x27|#39);/g, entity => ENTITIES[entity]);
}

export function appendHighlighted(parent: HTMLElement, fragment: string): void {
  let marked = false;
  for (const part of fragment.split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>' || part === '</mark>') {
      marked = part === '<mark>';
      continue;
    }
    if (!part) {
      continue;
    }
    const text = document.createTextNode(decodeEntities(part));
    if (marked) {
      const mark = document.createElement('mark');
      mark.appendChild(text);
      parent.appendChild(mark);
    } else {
      parent.appendChild(text);
    }
  }
}
