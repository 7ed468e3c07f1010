#!/usr/bin/env python3
"""The plain script shipshape's cold inventory is measured against.

    bench/inventory_baseline.py HOST:PORT REPOSITORY [THREADS]

Gathers, over plain HTTP with urllib and a ThreadPoolExecutor of THREADS (default 8) workers,
the facts a cold `shipshape inventory` gathers: the tag list (following Link headers), a GET
of each tag's manifest, a GET of each manifest an index lists, a GET of each image config
(not of attestation manifests, which buildx marks in the index and whose config holds
nothing), and a probe of the referrers API. It works the way such a script is written: one
stage after another, pool.map within a stage, a new connection per request (urllib's way).
Standard library only. Prints one line: the facts, then the wall time.
"""
import json
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
ZERO = "sha256:" + "0" * 64


def fetch(url, accept=ACCEPT):
    req = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def main():
    host, repo = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    base = f"http://{host}/v2/{repo}"
    start = time.monotonic()

    tags, url = [], f"{base}/tags/list?n=1000"
    while url:
        _, headers, body = fetch(url, "application/json")
        tags += json.loads(body).get("tags") or []
        link = headers.get("Link", "")
        url = f"http://{host}{link[link.index('<') + 1:link.index('>')]}" if link else None

    with ThreadPoolExecutor(threads) as pool:
        probe = pool.submit(fetch, f"{base}/referrers/{ZERO}", "application/vnd.oci.image.index.v1+json")

        def tag_manifest(tag):
            _, headers, body = fetch(f"{base}/manifests/{tag}")
            return headers["Docker-Content-Digest"], body

        manifests = {}
        for digest, body in pool.map(tag_manifest, tags):
            manifests.setdefault(digest, body)
        children, configs = [], []
        for body in manifests.values():
            m = json.loads(body)
            for child in m.get("manifests", []):
                if child["digest"] not in manifests and child["digest"] not in children:
                    children.append(child["digest"])
            if "config" in m:
                configs.append(m["config"]["digest"])
        attestations = set()
        for body in manifests.values():
            for child in json.loads(body).get("manifests", []):
                if child.get("annotations", {}).get("vnd.docker.reference.type") == "attestation-manifest":
                    attestations.add(child["digest"])
        for digest, (_, _, body) in zip(children, pool.map(lambda d: fetch(f"{base}/manifests/{d}"), children)):
            manifests[digest] = body
            m = json.loads(body)
            if "config" in m and digest not in attestations:
                configs.append(m["config"]["digest"])
        read = sum(1 for status, _, _ in pool.map(lambda d: fetch(f"{base}/blobs/{d}", "*/*"), configs) if status == 200)
        api = probe.result()[0] == 200

    wall = time.monotonic() - start
    print(f"{len(tags)} tags, {len(manifests)} manifests, {read} configs, referrers API {'yes' if api else 'no'}; {wall:.2f} s")


if __name__ == "__main__":
    main()
