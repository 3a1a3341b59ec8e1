"""REST handlers for papers beyond the index: what the web has for a query or an
identifier (``GET online``), and a looked-up paper added to the index (``POST lookup``).
The sidebar sends its settings (online lookups off / identifiers / search, contact
e-mail, proxy) with each request; what is not sent comes from the server's environment
(lookups.OnlineSettings.from_environment). A lookup runs in a worker thread under the
client's time limit: the event loop never waits for the web."""

from __future__ import annotations

import tornado.web

from jupyter_papers.lookups import OnlineError, OnlineSettings, add_identifier, online_results
from jupyter_papers.sources.online import MODES

from .handlers import MAX_LIMIT, PapersHandler


class OnlineHandler(PapersHandler):
    def settings_asked(self, given: dict | None = None) -> OnlineSettings:
        given = given or {name: self.get_argument(name, None) for name in ("online", "email", "proxy")}
        mode = given.get("online") or None
        if mode is not None and mode not in MODES:
            raise tornado.web.HTTPError(400, f"online must be one of {', '.join(MODES)}")
        try:
            return OnlineSettings.from_environment(mode=mode, email=given.get("email") or None,
                                                   proxy=given.get("proxy") or None)
        except OnlineError as error:
            raise tornado.web.HTTPError(400, str(error)) from None

    @tornado.web.authenticated
    async def get(self):
        """{"papers": [...], "error": message or null}: a failure of the web is an answer
        too (the sidebar shows it under the local results), not an HTTP error."""
        query = self.get_argument("q", "").strip()
        limit = self.int_argument("limit", 10, 1, MAX_LIMIT)
        settings = self.settings_asked()

        def answer():
            local = self.index.search(query, limit=limit, prefix=False, highlights=False).papers
            return online_results(self.index, query, local, limit, settings)

        try:
            papers = await self.run(answer) if query else []
        except OnlineError as error:
            self.finish({"papers": [], "error": str(error)})
            return
        self.finish({"papers": [paper.to_dict() for paper in papers], "error": None})


class LookupHandler(OnlineHandler):
    @tornado.web.authenticated
    async def post(self):
        """Body {"id": "10.1145/…", "online": …, "email": …, "proxy": …}: the paper the
        identifier names, from the index or looked up and added to it."""
        usage = 'send {"id": "10.1145/3519935.3520001"} (a DOI, arXiv id, pmid:… or isbn:…)'
        request = self.json_request(usage)
        identifier = request.get("id")
        if not isinstance(identifier, str) or not identifier.strip():
            raise tornado.web.HTTPError(400, usage)
        settings = self.settings_asked(request)
        try:
            paper = await self.run(add_identifier, self.index, identifier.strip(), settings)
        except OnlineError as error:
            raise tornado.web.HTTPError(502, str(error)) from None
        self.finish({"paper": paper.to_dict()})
