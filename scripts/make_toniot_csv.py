#!/usr/bin/env python3
"""Write a SYNTHETIC CSV shaped like TON_IoT's network table (train_test_network.csv).

Nothing here comes from the real data set: the columns and value ranges only mimic it
(46 columns: ts, src_ip, src_port, dst_ip, dst_port, proto, service, duration, src_bytes,
dst_bytes, conn_state, ..., weird_notice, label, type), so that partplan's CSV source can be
tested without the data set. Records of each attack `type` are drawn from slightly different
ranges, `label` is 0 for normal traffic and 1 otherwise, and TON_IoT's conventions are kept:
"-" for a missing value, T/F flags, dotted IPv4 (with a few IPv6) addresses, user agents with
commas (so fields get quoted).

Deterministic: a splitmix64 generator written out below (not `random`, whose helpers may
change between Python versions), so one seed gives the same file everywhere. Standard
library only.

    python3 scripts/make_toniot_csv.py --rows 1000 --seed 0 --out toniot_synthetic.csv

`encode_records` (and --encoded) re-implement partplan's default CSV encoding (docs/data.md,
"CSV records"), so that a model trained here sees the features partplan feeds it; the data
tests check the two agree.
"""
import argparse
import csv
import ipaddress
import sys

MASK = (1 << 64) - 1

COLUMNS = [
    "ts", "src_ip", "src_port", "dst_ip", "dst_port", "proto", "service", "duration", "src_bytes",
    "dst_bytes", "conn_state", "missed_bytes", "src_pkts", "src_ip_bytes", "dst_pkts", "dst_ip_bytes",
    "dns_query", "dns_qclass", "dns_qtype", "dns_rcode", "dns_AA", "dns_RD", "dns_RA", "dns_rejected",
    "ssl_version", "ssl_cipher", "ssl_resumed", "ssl_established", "ssl_subject", "ssl_issuer",
    "http_trans_depth", "http_method", "http_uri", "http_referrer", "http_version",
    "http_request_body_len", "http_response_body_len", "http_status_code", "http_user_agent",
    "http_orig_mime_types", "http_resp_mime_types", "weird_name", "weird_addl", "weird_notice",
    "label", "type",
]

TYPES = ["normal", "backdoor", "ddos", "dos", "injection", "mitm", "password", "ransomware",
         "scanning", "xss"]
# About 40% normal, the rest spread over the attacks.
TYPE_WEIGHTS = [40, 5, 10, 8, 8, 2, 8, 3, 10, 6]


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, bound):
        threshold = ((1 << 64) - bound) % bound
        while True:
            r = self.next()
            if r >= threshold:
                return r % bound

    def uniform(self):
        return (self.next() >> 11) / float(1 << 53)

    def pick(self, items):
        return items[self.below(len(items))]

    def weighted(self, items, weights):
        r = self.below(sum(weights))
        for item, w in zip(items, weights):
            if r < w:
                return item
            r -= w
        return items[-1]

    def heavy(self, scale):
        """A heavy-tailed non-negative integer, like byte counts."""
        u = self.uniform()
        return int(scale * (u ** 4) * 100)


def ipv4(rng, internal):
    if internal:
        return "192.168.1.%d" % (1 + rng.below(254))
    return "%d.%d.%d.%d" % (1 + rng.below(223), rng.below(256), rng.below(256), 1 + rng.below(254))


def record(rng, ts):
    kind = rng.weighted(TYPES, TYPE_WEIGHTS)
    attack = kind != "normal"
    proto = rng.weighted(["tcp", "udp", "icmp"], [70, 25, 5])
    service = rng.pick(["-", "dns", "http", "ssl", "ftp", "smtp"]) if proto != "icmp" else "-"
    if kind == "scanning":
        dst_port = rng.below(65536)
    else:
        dst_port = {"dns": 53, "http": 80, "ssl": 443, "ftp": 21, "smtp": 25}.get(service, rng.pick([22, 8080, 1883]))
    src_ip = "fe80::%x" % (1 + rng.below(0xFFFF)) if rng.below(50) == 0 else ipv4(rng, not attack)
    dst_ip = ipv4(rng, rng.below(2) == 0)
    # About 3% of durations are missing ("-"), to exercise NaN handling.
    duration = "-" if rng.below(33) == 0 else "%.6f" % (rng.uniform() * (30.0 if not attack else 2.0))
    scale = {"ddos": 50, "dos": 40, "ransomware": 200}.get(kind, 10)
    src_bytes = rng.heavy(scale)
    dst_bytes = 0 if kind in ("scanning", "ddos") else rng.heavy(scale)
    src_pkts = 1 + src_bytes // 500
    dst_pkts = dst_bytes // 500
    dns = service == "dns"
    ssl = service == "ssl"
    http = service == "http"
    flag = lambda: rng.pick(["T", "F"])
    row = {
        "ts": ts,
        "src_ip": src_ip,
        "src_port": 1024 + rng.below(64512),
        "dst_ip": dst_ip,
        "dst_port": dst_port,
        "proto": proto,
        "service": service,
        "duration": duration,
        "src_bytes": src_bytes,
        "dst_bytes": dst_bytes,
        "conn_state": rng.pick(["S0", "SF", "REJ", "RSTO", "OTH", "SH"]) if attack else rng.pick(["SF", "S1", "OTH"]),
        "missed_bytes": 0 if rng.below(20) else rng.heavy(5),
        "src_pkts": src_pkts,
        "src_ip_bytes": src_bytes + 40 * src_pkts,
        "dst_pkts": dst_pkts,
        "dst_ip_bytes": dst_bytes + 40 * dst_pkts,
        "dns_query": rng.pick(["www.example.com", "iot.local", "update.vendor.net", "-"]) if dns else "-",
        "dns_qclass": 1 if dns else 0,
        "dns_qtype": rng.pick([1, 28, 12, 16]) if dns else 0,
        "dns_rcode": rng.pick([0, 0, 0, 3]) if dns else 0,
        "dns_AA": flag() if dns else "-",
        "dns_RD": flag() if dns else "-",
        "dns_RA": flag() if dns else "-",
        "dns_rejected": flag() if dns else "-",
        "ssl_version": rng.pick(["TLSv12", "TLSv13", "TLSv10"]) if ssl else "-",
        "ssl_cipher": rng.pick(["TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]) if ssl else "-",
        "ssl_resumed": flag() if ssl else "-",
        "ssl_established": flag() if ssl else "-",
        "ssl_subject": "CN=device%d.iot.local" % rng.below(20) if ssl else "-",
        "ssl_issuer": "CN=IoT CA, O=Example" if ssl else "-",
        "http_trans_depth": 1 + rng.below(3) if http else "-",
        "http_method": rng.pick(["GET", "POST"]) if http else "-",
        "http_uri": rng.pick(["/", "/login.php", "/index.html?id=1' OR '1'='1", "/api/v1/status"]) if http else "-",
        "http_referrer": "-",
        "http_version": "1.1" if http else "-",
        "http_request_body_len": rng.heavy(2) if http else 0,
        "http_response_body_len": rng.heavy(5) if http else 0,
        "http_status_code": rng.pick([200, 200, 302, 404, 500]) if http else 0,
        "http_user_agent": rng.pick(["Mozilla/5.0 (X11; Linux x86_64)", "curl/7.68.0",
                                     "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"]) if http else "-",
        "http_orig_mime_types": "-",
        "http_resp_mime_types": rng.pick(["text/html", "application/json"]) if http else "-",
        "weird_name": rng.pick(["-", "-", "-", "bad_TCP_checksum", "possible_split_routing"]),
        "weird_addl": "-",
        "weird_notice": "F",
        "label": 1 if attack else 0,
        "type": kind,
    }
    return [row[c] for c in COLUMNS]


MISSING = {"", "-", "?"}
MISSING_WORDS = {"nan", "na", "n/a", "null", "none"}


def is_missing(cell):
    return cell in MISSING or cell.lower() in MISSING_WORDS


def as_number(cell):
    try:
        v = float(cell[1:] if cell.startswith("+") else cell)
    except ValueError:
        return None
    return None if cell.strip() != cell or "_" in cell else v


def as_ip_key(cell):
    try:
        a = ipaddress.ip_address(cell)
    except ValueError:
        return None
    return int(a) + (0xFFFF << 32) if a.version == 4 else int(a)  # IPv4 as ::ffff:a.b.c.d


def ordinal(keys):
    ranks = {k: i for i, k in enumerate(sorted(set(keys)))}
    top = len(ranks) - 1
    return [ranks[k] / top if top > 0 else 0.0 for k in keys]


def encode_records(header, rows, label="label", drop=("type",)):
    """partplan's default CSV encoding (docs/data.md, "CSV records"), re-implemented: the
    model must be trained on the features partplan will feed it. Returns (features per row,
    labels, feature names)."""
    columns, names = [], []
    for c, name in enumerate(header):
        if name == label or name in drop:
            continue
        cells = [r[c].strip(" \t") for r in rows]
        present = [x for x in cells if not is_missing(x)]
        if all(as_number(x) is not None for x in present):
            raw = [0.0 if is_missing(x) or as_number(x) != as_number(x) else as_number(x) for x in cells]
            finite = [v for v in raw if abs(v) != float("inf")]
            lo, hi = min(finite), max(finite)
            col = [1.0 if v == float("inf") else 0.0 if v == -float("inf") or hi <= lo else (v - lo) / (hi - lo)
                   for v in raw]
        elif present and all(as_ip_key(x) is not None for x in present):
            col = ordinal([(0, 0) if is_missing(x) else (1, as_ip_key(x)) for x in cells])
        else:
            col = ordinal([x.encode() for x in cells])  # byte order
        columns.append(col)
        names.append(name)
    li = header.index(label)
    labels = [int(r[li]) for r in rows]
    return [list(v) for v in zip(*columns)], labels, names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1000, help="number of records (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    ap.add_argument("--out", default="-", help="output CSV path, '-' for stdout (default)")
    ap.add_argument("--encoded", metavar="CSV",
                    help="instead: read CSV and write its records as partplan's default encoding feeds them to a "
                         "model (label 'label', 'type' dropped), one row of features per record, to --out")
    args = ap.parse_args()
    if args.encoded:
        with open(args.encoded, newline="") as f:
            table = list(csv.reader(f))
        feats, labels, names = encode_records(table[0], table[1:])
        out = sys.stdout if args.out == "-" else open(args.out, "w", newline="")
        w = csv.writer(out, lineterminator="\n")
        w.writerow(names)
        for row in feats:
            w.writerow([repr(v) for v in row])
        if out is not sys.stdout:
            out.close()
        return
    if args.rows < 1:
        ap.error("--rows must be positive")
    rng = SplitMix64(args.seed)
    out = sys.stdout if args.out == "-" else open(args.out, "w", newline="")
    try:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(COLUMNS)
        ts = 1554198358
        for _ in range(args.rows):
            ts += rng.below(5)
            w.writerow(record(rng, ts))
    finally:
        if out is not sys.stdout:
            out.close()


if __name__ == "__main__":
    main()
