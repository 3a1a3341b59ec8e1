"""Real OpenSearch 2.19.6 nodes on localhost for the tests, each a JVM of 512 MB at most,
built by Maven from OpenSearch's own modules on Maven Central (tests/opensearch_node/).

.ci/run builds the launcher; a checkout without it is built here on first use (Java 17
and Maven needed: the test says how to get them if they are missing).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

LAUNCHER = Path(__file__).parent / "opensearch_node"
CLASSPATH = f"{LAUNCHER / 'target' / 'opensearch-node-1.jar'}:{LAUNCHER / 'target' / 'dependency' / '*'}"
HEAP = "512m"
# OpenSearch's own jvm.options: with G1 the real-memory circuit breaker collects before it
# trips; with the serial collector a 512 MB heap refused requests while garbage was collectable
GC = ("-XX:+UseG1GC", "-XX:G1ReservePercent=25", "-XX:InitiatingHeapOccupancyPercent=30")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_launcher() -> str | None:
    """Build the launcher if it is not built; the reason it cannot be, or None."""
    if (LAUNCHER / "target" / "dependency").is_dir() and list((LAUNCHER / "target").glob("*.jar")):
        return None
    if not shutil.which("java") or not shutil.which("mvn"):
        return "OpenSearch nodes need Java 17 and Maven (apt-get install openjdk-17-jdk-headless maven; .ci/run does)"
    subprocess.run(["mvn", "-q", "-B", "-f", str(LAUNCHER / "pom.xml"), "package", "dependency:copy-dependencies",
                    "-DincludeScope=runtime"], check=True, timeout=900)
    return None


class Node:
    """One node: its own folder, HTTP and transport ports on 127.0.0.1."""

    def __init__(self, name: str, home: Path, roles: str = "cluster_manager,data"):
        self.name, self.home, self.roles = name, home, roles
        self.http, self.transport = free_port(), free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    def start(self, seeds: list[Node], managers: list[Node]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home / "node.log", "ab")
        self.process = subprocess.Popen(
            ["java", f"-Xms{HEAP}", f"-Xmx{HEAP}", *GC, "-cp", CLASSPATH, "papers.Node", self.name,
             str(self.http), str(self.transport), str(self.home),
             ",".join(f"127.0.0.1:{n.transport}" for n in seeds), ",".join(n.name for n in managers), self.roles],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        path = self.home / "node.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def health(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_cluster/health", timeout=10) as response:
        return json.loads(response.read())


def wait_for(url: str, nodes: int, status: tuple[str, ...] = ("green",), timeout: float = 240.0,
             watched: list[Node] = ()) -> dict:
    """The cluster's health once it has ``nodes`` nodes in one of ``status`` (a state,
    polled: a JVM starts in 15-60 s on a busy machine)."""
    deadline = time.monotonic() + timeout
    last: dict | str = "no answer"
    while time.monotonic() < deadline:
        for node in watched:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"node {node.name} stopped: {node.log()}")
        try:
            last = health(url)
            if last["number_of_nodes"] == nodes and last["status"] in status:
                return last
        except OSError as error:
            last = str(error)
        time.sleep(0.5)
    raise TimeoutError(f"the cluster at {url} is not {status} with {nodes} nodes: {last}; "
                       + " ".join(node.log() for node in watched))
