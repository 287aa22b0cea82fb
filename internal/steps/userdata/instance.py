#!/usr/bin/python3
"""myappctl's instance helper: fetch this tier's release from the stack's
artifacts bucket and write this instance's report there, signed (SigV4) with
the instance role's credentials from IMDSv2. Python's standard library only:
every Ubuntu cloud image has python3 (cloud-init runs on it), and no AWS CLI.

  instance.py get KEY FILE        download an object
  instance.py report STATUS [LOG] write reports/<tier>/<instance-id>.json

Settings come from the environment: MYAPP_BUCKET, MYAPP_REGION, MYAPP_STACK,
MYAPP_TIER, MYAPP_RELEASE; MYAPP_S3_ENDPOINT and MYAPP_IMDS_ENDPOINT point it
elsewhere (tests)."""
import datetime
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

IMDS = os.environ.get("MYAPP_IMDS_ENDPOINT", "http://169.254.169.254").rstrip("/")
ATTEMPTS = int(os.environ.get("MYAPP_ATTEMPTS", "10"))
LOG_LINES = 50


def env(name):
    value = os.environ.get(name, "")
    if not value:
        sys.exit("instance.py: %s is not set" % name)
    return value


def http(method, url, headers=None, body=None, timeout=20):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


def metadata(path, token):
    return http("GET", IMDS + "/latest/" + path, {"X-aws-ec2-metadata-token": token}).decode()


def instance_identity():
    """The instance id and the role's credentials (IMDSv2)."""
    token = http("PUT", IMDS + "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "300"}).decode()
    instance = metadata("meta-data/instance-id", token).strip()
    try:
        roles = metadata("meta-data/iam/security-credentials/", token).split()
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
        roles = []
    if not roles:
        raise RuntimeError("the instance has no instance profile (no role credentials in the metadata service)")
    creds = json.loads(metadata("meta-data/iam/security-credentials/" + roles[0], token))
    return instance, creds


def object_url(bucket, region, key):
    path = urllib.parse.quote(key, safe="/-_.~")
    endpoint = os.environ.get("MYAPP_S3_ENDPOINT", "").rstrip("/")
    if endpoint:
        return "%s/%s/%s" % (endpoint, bucket, path)
    return "https://%s.s3.%s.amazonaws.com/%s" % (bucket, region, path)


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(method, url, region, creds, payload, headers, now):
    """SigV4 for S3: the headers to send, Authorization included."""
    parsed = urllib.parse.urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    payload_hash = hashlib.sha256(payload).hexdigest()
    signed = {k.lower(): v.strip() for k, v in headers.items()}
    signed.update({"host": parsed.netloc, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date})
    if creds.get("Token"):
        signed["x-amz-security-token"] = creds["Token"]
    names = sorted(signed)
    canonical = "\n".join([method, parsed.path or "/", parsed.query,
                           "".join("%s:%s\n" % (n, signed[n]) for n in names), ";".join(names), payload_hash])
    scope = "%s/%s/s3/aws4_request" % (now.strftime("%Y%m%d"), region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + creds["SecretAccessKey"]).encode(), now.strftime("%Y%m%d"))
    for part in (region, "s3", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        creds["AccessKeyId"], scope, ";".join(names), signature)
    del signed["host"]
    return signed


def s3(method, key, payload=b"", headers=None):
    """One signed request, retried: a new instance's role credentials may
    take seconds to appear, and networks fail."""
    bucket, region = env("MYAPP_BUCKET"), env("MYAPP_REGION")
    url = object_url(bucket, region, key)
    delay = 1.0
    for attempt in range(1, ATTEMPTS + 1):
        try:
            _, creds = instance_identity()
            now = datetime.datetime.now(datetime.timezone.utc)
            return http(method, url, sign(method, url, region, creds, payload, headers or {}, now),
                        payload if method == "PUT" else None, timeout=120)
        except urllib.error.HTTPError as e:
            detail = "%s %s: HTTP %d %s" % (method, key, e.code, e.read()[:300].decode(errors="replace"))
            if e.code == 404 or attempt == ATTEMPTS:
                raise RuntimeError(detail)
        except (urllib.error.URLError, OSError, RuntimeError, ValueError, KeyError) as e:
            detail = "%s %s: %s" % (method, key, e)
            if attempt == ATTEMPTS:
                raise RuntimeError(detail)
        print("instance.py: attempt %d: %s; retrying" % (attempt, detail), file=sys.stderr)
        time.sleep(delay)
        delay = min(delay * 2, 15)


def tail(path):
    try:
        with open(path, errors="replace") as f:
            return [line.rstrip("\n") for line in f.readlines()[-LOG_LINES:]]
    except OSError as e:
        return ["(no install log: %s)" % e]


def report(status, log_path=None):
    instance, _ = instance_identity()
    tier = env("MYAPP_TIER")
    body = {"stack": env("MYAPP_STACK"), "tier": tier, "instance": instance, "status": status,
            "release": os.environ.get("MYAPP_RELEASE", ""),
            "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if log_path:
        body["log"] = tail(log_path)
    data = json.dumps(body).encode()
    s3("PUT", "reports/%s/%s.json" % (tier, instance), data, {"content-type": "application/json"})


def main(argv):
    if len(argv) == 4 and argv[1] == "get":
        data = s3("GET", argv[2])
        with open(argv[3], "wb") as f:
            f.write(data)
    elif len(argv) in (3, 4) and argv[1] == "report":
        report(argv[2], argv[3] if len(argv) == 4 else None)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except RuntimeError as e:
        sys.exit("instance.py: %s" % e)
