# Rack sync: registers each bookie's availability zone as its rack. The
# chart does not, and without racks the rack-aware placement policy cannot
# spread a ledger's copies over zones. For every bookie the brokers know it
# finds the bookie pod's node and the node's zone label, and updates the
# rack only when it changed (idempotent). A bookie whose pod is not
# scheduled is skipped; a node without a zone label is reported and the
# run fails, after every other bookie is done.
#
# Python's standard library only: it runs in the Pulsar image, and it reads
# the Kubernetes API over REST, so no kubectl, whose version would have to
# follow the cluster's.
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


class API:
    """An HTTPS API with a bearer token and a CA of its own."""

    def __init__(self, base, token, cafile):
        self.base = base.rstrip("/")
        self.auth = "Bearer " + token
        self.tls = ssl.create_default_context(cafile=cafile)

    def call(self, method, path, body=None):
        """The decoded JSON answer, or None for 404."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", self.auth)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=self.tls, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise SystemExit("%s %s: HTTP %d %s" % (method, path, e.code, e.read()[:300].decode(errors="replace")))
        return json.loads(raw) if raw.strip() else {}


def zone_of(kube, namespace, pod):
    """The pod's node's zone, "" when the pod is not scheduled, or None
    when its node has no zone label."""
    p = kube.call("GET", "/api/v1/namespaces/%s/pods/%s" % (namespace, urllib.parse.quote(pod)))
    node = ((p or {}).get("spec") or {}).get("nodeName", "")
    if not node:
        return ""
    n = kube.call("GET", "/api/v1/nodes/" + urllib.parse.quote(node)) or {}
    return ((n.get("metadata") or {}).get("labels") or {}).get(ZONE_LABEL)


def main():
    env = os.environ
    namespace = env["NAMESPACE"]
    sa = env.get("SERVICE_ACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")
    kube = API("https://%s:%s" % (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]),
               read(os.path.join(sa, "token")), os.path.join(sa, "ca.crt"))
    pulsar = API(env["PULSAR_ADMIN_URL"], read(env["PULSAR_TOKEN_FILE"]), env["PULSAR_CA_FILE"])
    failed = []
    for b in (pulsar.call("GET", "/bookies/all") or {}).get("bookies", []):
        bookie = b["bookieId"]
        pod = bookie.split(".", 1)[0]
        zone = zone_of(kube, namespace, pod)
        if zone == "":
            print("bookie %s: pod %s is not scheduled; skipped" % (bookie, pod))
            continue
        if zone is None:
            print("bookie %s: its node has no %s label" % (bookie, ZONE_LABEL), file=sys.stderr)
            failed.append(bookie)
            continue
        path = "/bookies/racks-info/" + urllib.parse.quote(bookie, safe=":")
        current = (pulsar.call("GET", path) or {}).get("rack", "")
        if current == zone:
            continue
        pulsar.call("POST", path + "?group=default", {"rack": zone, "hostname": bookie.rsplit(":", 1)[0]})
        print("bookie %s: rack %r -> %s" % (bookie, current, zone))
    if failed:
        raise SystemExit("rack sync: %d bookie(s) without a zone: %s" % (len(failed), ", ".join(failed)))


main()
