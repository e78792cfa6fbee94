# Rack sync: registers each bookie's availability zone as its rack. The
# chart does not, and without racks the rack-aware placement policy cannot
# spread a ledger's copies over zones. For every bookie the brokers know it
# finds the bookie pod's node and the node's zone label, and updates the
# rack only when it changed (idempotent). A bookie whose pod is not
# scheduled is skipped. A bookie that cannot be synced (its node has no
# zone label, an API refused) is reported and fails the run, after every
# other bookie is done; a bookie list that cannot be read fails it at once.
#
# Python's standard library only: it runs in the Pulsar image, and it reads
# the Kubernetes API over REST, so no kubectl, whose version would have to
# follow the cluster's.
import http.client
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

ZONE_LABEL = "topology.kubernetes.io/zone"


def read(path):
    with open(path) as f:
        return f.read().strip()


class APIError(Exception):
    """A refusal or an unreachable API: it names the request."""


class API:
    """An HTTPS API with a bearer token and a CA of its own."""

    def __init__(self, base, token, cafile):
        self.base = base.rstrip("/")
        self.auth = "Bearer " + token
        self.tls = ssl.create_default_context(cafile=cafile)

    def call(self, method, path, body=None, missing_ok=False):
        """The decoded JSON answer; None for a 404 where missing_ok says
        absence is an answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", self.auth)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=self.tls, timeout=30) as resp:
                raw = resp.read()
            answer = json.loads(raw) if raw.strip() else {}
        except urllib.error.HTTPError as e:
            if e.code == 404 and missing_ok:
                return None
            raise APIError("%s %s: HTTP %d %s" % (method, path, e.code, e.read()[:300].decode(errors="replace")))
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
            raise APIError("%s %s: %s" % (method, path, getattr(e, "reason", e)))
        if not isinstance(answer, dict):
            raise APIError("%s %s: not a JSON object" % (method, path))
        return answer


def zone_of(kube, namespace, pod):
    """The pod's node's zone; None when there is no such pod, "" when it
    is not scheduled."""
    p = kube.call("GET", "/api/v1/namespaces/%s/pods/%s" % (namespace, urllib.parse.quote(pod)), missing_ok=True)
    if p is None:
        return None
    node = (p.get("spec") or {}).get("nodeName", "")
    if not node:
        return ""
    n = kube.call("GET", "/api/v1/nodes/" + urllib.parse.quote(node))
    zone = ((n.get("metadata") or {}).get("labels") or {}).get(ZONE_LABEL)
    if not zone:
        raise APIError("its node %s has no %s label" % (node, ZONE_LABEL))
    return zone


def sync(kube, pulsar, namespace, bookie):
    """Registers one bookie's zone as its rack."""
    pod = bookie.split(".", 1)[0]
    zone = zone_of(kube, namespace, pod)
    if zone is None:
        print("bookie %s: no pod %s in %s; skipped" % (bookie, pod, namespace))
        return
    if not zone:
        print("bookie %s: pod %s is not scheduled; skipped" % (bookie, pod))
        return
    path = "/bookies/racks-info/" + urllib.parse.quote(bookie, safe=":")
    current = (pulsar.call("GET", path, missing_ok=True) or {}).get("rack", "")
    if current == zone:
        return
    pulsar.call("POST", path + "?group=default", {"rack": zone, "hostname": bookie.rsplit(":", 1)[0]})
    print("bookie %s: rack %r -> %s" % (bookie, current, zone))


def main():
    env = os.environ
    namespace = env["NAMESPACE"]
    sa = env.get("SERVICE_ACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")
    host = env["KUBERNETES_SERVICE_HOST"]
    if ":" in host:  # IPv6
        host = "[" + host + "]"
    kube = API("https://%s:%s" % (host, env["KUBERNETES_SERVICE_PORT"]),
               read(os.path.join(sa, "token")), os.path.join(sa, "ca.crt"))
    pulsar = API(env["PULSAR_ADMIN_URL"], read(env["PULSAR_TOKEN_FILE"]), env["PULSAR_CA_FILE"])
    try:
        bookies = [b.get("bookieId") for b in pulsar.call("GET", "/bookies/all").get("bookies") or []]
        if not all(isinstance(b, str) and b for b in bookies):
            raise APIError("GET /bookies/all: a bookie without a bookieId")
    except (APIError, AttributeError) as e:
        raise SystemExit("rack sync: cannot list the bookies: %s" % e)
    failed = []
    for bookie in bookies:
        try:
            sync(kube, pulsar, namespace, bookie)
        except APIError as e:
            print("bookie %s: %s" % (bookie, e), file=sys.stderr)
            failed.append(bookie)
    if failed:
        raise SystemExit("rack sync: %d bookie(s) not synced: %s" % (len(failed), ", ".join(failed)))


main()
