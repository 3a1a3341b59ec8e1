"""The scholarly web, replayed on localhost: real responses of doi.org, Crossref, arXiv and
NCBI, recorded by other projects' tests (tests/data/online, provenance in
tests/data/README.md), served by a local HTTP server (pytest-httpserver) that our client
is pointed at through JUPYTER_PAPERS_<SERVICE>_URL. Status, headers (gzip included) and
bodies are served as recorded; a redirect's Location is moved to this server. Failures
(429, 500, a slow answer, a cut body, an HTML page) are made from these responses."""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path
from urllib.parse import quote

import yaml
from werkzeug import Request, Response

DATA = Path(__file__).parent / "data" / "online"
WATER = "10.1126/science.169.3946.635"  # the DOI the Crossref recordings are of
_KEPT_HEADERS = ("content-type", "content-encoding", "location", "retry-after")


def _cassette(name: str, number: int = 0) -> dict:
    """One interaction of a VCR cassette: status, headers, body bytes."""
    response = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["interactions"][number]["response"]
    body = response.get("body", {}).get("string") if isinstance(response.get("body"), dict) else response.get("content")
    body = body.encode("utf-8") if isinstance(body, str) else body or b""
    headers = {k.lower(): v[0] for k, v in response["headers"].items() if k.lower() in _KEPT_HEADERS}
    return {"status": response["status"]["code"], "headers": headers, "body": body}


def _arxiv(name: str) -> dict:
    recorded = json.loads((DATA / name).read_text(encoding="utf-8"))
    return {"status": recorded["status_code"], "headers": {"content-type": "application/atom+xml; charset=utf-8"},
            "body": recorded["body"].encode("utf-8")}


def plain_body(recorded: dict) -> bytes:
    body = recorded["body"]
    return gzip.decompress(body) if recorded["headers"].get("content-encoding") == "gzip" else body


class RecordedWeb:
    def __init__(self, server):
        self.server = server
        self.requests: list[Request] = []
        self._failures: dict[str, list[dict]] = {}
        self.recordings = {
            "doi-redirect": _cassette("crossref-doi-redirect.yaml"),
            "csl-json": _cassette("crossref-csl-json.yaml", 1),
            "doi-not-found": _cassette("doi-not-found.yaml"),
            "crossref-search": _cassette("crossref-works-query.yaml"),
            "arxiv:1605.08386": _arxiv("arxiv-id_1605.08386_s0_m100_199195aa31ad.json"),
            "arxiv:astro-ph/0601001": _arxiv("arxiv-id_astro-ph_0601001_s0_m100_3150dca9dc76.json"),
            "arxiv:0000.0000": _arxiv("arxiv-id_0000.0000_s0_m100_8b51d9633a68.json"),
            "arxiv:abc": _arxiv("arxiv-id_abc_s0_m100_b79c8dcf6bc3.json"),
            "arxiv-search": _arxiv("arxiv-q_testing_s0_m10_bc5a6c384fe9.json"),
            "pubmed:27797938": {"status": 200, "headers": {"content-type": "text/xml; charset=UTF-8"},
                                "body": (DATA / "pubmed-efetch-27797938.xml").read_bytes()},
        }
        server.expect_request(re.compile(".*")).respond_with_handler(self._answer)

    @property
    def environment(self) -> dict[str, str]:
        return {f"JUPYTER_PAPERS_{name.upper()}_URL": self.server.url_for(f"/{name}")
                for name in ("doi", "crossref", "arxiv", "eutils", "openlibrary")}

    def fail(self, service: str, times: int = 1, status: int = 500, retry_after: str | None = None,
             delay: float = 0.0, body: bytes | None = None, content_type: str | None = None) -> None:
        """The next ``times`` requests to the service get this instead of the recording:
        its status (with the recorded body, unless another is given), after ``delay``."""
        self._failures.setdefault(service, []).extend(
            [{"status": status, "retry_after": retry_after, "delay": delay, "body": body,
              "content_type": content_type}] * times)

    def asked(self, service: str) -> list[Request]:
        return [request for request in self.requests if request.path.startswith(f"/{service}")]

    def _answer(self, request: Request) -> Response:
        self.requests.append(request)
        service = request.path.strip("/").split("/", 1)[0]
        recorded = self._recording(request, service)
        failures = self._failures.get(service)
        if failures:
            failure = failures.pop(0)
            time.sleep(failure["delay"])
            if failure["status"] != 200 or failure["body"] is not None:
                headers = {"content-type": failure["content_type"] or recorded["headers"].get("content-type", "")}
                if failure["retry_after"] is not None:
                    headers["retry-after"] = failure["retry_after"]
                body = failure["body"] if failure["body"] is not None else plain_body(recorded)
                return Response(body, status=failure["status"], headers=headers)
        headers = dict(recorded["headers"])
        if "location" in headers:  # the next hop, on this server
            headers["location"] = re.sub(r"^https://api\.crossref\.org", self.server.url_for("/crossref"),
                                         headers["location"])
        return Response(recorded["body"], status=recorded["status"], headers=headers)

    def _recording(self, request: Request, service: str) -> dict:
        path = request.path[len(service) + 2:]
        if service == "doi":
            return self.recordings["doi-redirect" if path == WATER else "doi-not-found"]
        if service == "crossref":
            if path == f"v1/works/{quote(WATER, safe='')}/transform" or path == f"v1/works/{WATER}/transform":
                return self.recordings["csl-json"]
            return self.recordings["crossref-search"]
        if service == "arxiv":
            wanted = request.args.get("id_list")
            return self.recordings[f"arxiv:{wanted}" if wanted else "arxiv-search"]
        if service == "eutils":
            return self.recordings[f"pubmed:{request.args.get('id')}"]
        return {"status": 404, "headers": {"content-type": "text/plain"}, "body": b"no recording"}
