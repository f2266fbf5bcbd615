#!/usr/bin/env python3
"""Load test: `secctx server --mode http --threads 2`, on each engine, against nginx-light with 2
workers.

Same machine, same throwaway ECDSA P-256 certificate, same TLS defaults (TLS 1.3), loopback.
Measured with wrk (one client thread), each run --seconds long:
  keepalive  requests/s on 50 kept-alive connections, p50/p99 latency
  newconn    a full TLS handshake per request ("Connection: close": the server closes after
             each response, wrk reconnects; session tickets off on both servers, since wrk
             resumes), requests/s = handshakes/s, p50/p99 latency
  hostile    both again while bench/load/hostile.py holds hundreds of misbehaving connections;
             for secctx, every hostile connection's log line counted by cause
  echo       secctx in echo mode under the same attack: legitimate clients send random bytes and
             check every echoed byte
  idle       10,000 established TLS connections held open by another process against one
             `secctx server`: RSS per connection, and connection 10,001 refused at once
The servers' RSS is sampled during each run (nginx: master and workers added up).

The plain and hostile runs measure one `secctx server` per engine of --engines (named secctx on
OpenSSL, secctx-gnutls on GnuTLS); echo and idle measure the first engine's.

Usage: scripts/deps load && python3 bench/load/run.py [--secctx build/load/tools/secctx]
                                                      [--engines openssl,gnutls]
Prints the tables as Markdown and writes everything to --json.
"""
import argparse
import asyncio
import hashlib
import json
import os
import re
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BODY = "hello from secctx\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def make_certificate(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "2", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        except (OSError, StopIteration):
            pass
    return total


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime: all threads
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class Server:
    def __init__(self, name, command, port, log, cwd=None):
        self.name, self.port, self.log = name, port, log
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=open(log, "w"), cwd=cwd)
        for _ in range(100):
            try:
                # The probe shows in secctx's log as a handshake the peer abandoned, from
                # 127.0.0.1: not counted with the hostile connections (127.0.0.2).
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                time.sleep(0.1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not start: {open(log).read()}")

    def pids(self):
        return [self.process.pid] + children(self.process.pid)

    def rss_kb(self):
        return rss_kb(self.pids())

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def server_name(engine):
    return "secctx" if engine == "openssl" else f"secctx-{engine}"


def start_secctx(args, workdir, cert, key, mode, extra=(), engine=None):
    engine = engine or args.engines[0]
    port = free_port()
    log = os.path.join(workdir, f"secctx-{engine}-{mode}-{port}.log")
    command = [args.secctx, "server", "--engine", engine, "--listen", f"127.0.0.1:{port}",
               "--cert", cert, "--key", key, "--mode", mode, "--threads", "2",
               "--handshake-timeout", "5000", "--idle-timeout", "10000", "--max-output", "262144",
               "--no-session-tickets", "--session-cache", "0", *extra]
    return Server(server_name(engine), command, port, log), command


NGINX_CONF = """
worker_processes 2;
worker_rlimit_nofile 20000;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
daemon off;
events {{ worker_connections 10000; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 10s;
    client_header_timeout 5s;
    send_timeout 10s;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets off;
        location / {{ default_type text/plain; return 200 "{body}"; }}
    }}
}}
"""


def start_nginx(workdir, cert, key):
    port = free_port()
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(dir=workdir, port=port, cert=cert, key=key,
                                  body=BODY.replace("\n", "\\n")))
    command = ["nginx", "-p", workdir, "-c", conf]
    return Server("nginx", command, port, os.path.join(workdir, "nginx-stderr.log")), command


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(server, seconds, close, connections=50):
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if close:
        command += ["-H", "Connection: close"]
    command.append(f"https://127.0.0.1:{server.port}/")
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.wait(0.25):
            peak[0] = max(peak[0], server.rss_kb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    cpu_before = cpu_seconds(server.pids())
    load_before = os.getloadavg()[0]
    out = subprocess.run(command, capture_output=True, text=True).stdout
    cpu = cpu_seconds(server.pids()) - cpu_before
    done.set()
    sampler.join()
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "command": " ".join(command),
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        # The shared machine's other work moves requests/s; the server's CPU per request less.
        "server_cpu_us_per_request": round(cpu * 1e6 / max(1, requests), 1),
        "loadavg_before": load_before,
        "p50_ms": to_ms(latency["50"]),
        "p99_ms": to_ms(latency["99"]),
        "socket_errors": errors.group(1) if errors else "none",
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "peak_rss_kb": peak[0],
    }


def measure(server, seconds):
    return {"keepalive": wrk(server, seconds, close=False),
            "newconn": wrk(server, seconds, close=True)}


# The attacker's scheduling priority (nice). 0: it competes for the two cores with the servers and
# wrk as it would on a shared machine; 19: it runs on what they leave, as an attacker on another
# machine would take no CPU from the server at all.
ATTACKER_NICE = 0


def hostile(port, seconds, each):
    command = ["nice", "-n", str(ATTACKER_NICE), sys.executable,
               os.path.join(HERE, "hostile.py"), "--port", str(port), "--each", str(each),
               "--seconds", str(seconds), "--drain", "15"]
    shown = ["nice", "-n", str(ATTACKER_NICE), "python3", os.path.relpath(command[4], ROOT)]
    return (subprocess.Popen(command, stdout=subprocess.PIPE, text=True),
            " ".join(shown + command[5:]))


def classify(log, source="127.0.0.2"):
    causes = {}
    with open(log, errors="replace") as f:
        for line in f:
            if not line.startswith(source + ":"):
                continue
            cause = line.split("; ")[-1] if "; " in line else line.split(" ", 1)[1]
            cause = re.sub(r" \(.*", "", cause.strip())
            causes[cause] = causes.get(cause, 0) + 1
    return causes


def under_attack(server, seconds, each):
    attack, command = hostile(server.port, seconds * 2 + 4, each)
    time.sleep(2)  # the hostile connections are in place
    result = measure(server, seconds)
    report = json.loads(attack.communicate()[0])
    return result, report, command


# ---- echo check: no legitimate byte lost under attack ----

def echo_client(port, size, seed, results):
    data = hashlib.shake_256(str(seed).encode()).digest(size)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    received = bytearray()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw, \
                context.wrap_socket(raw, server_hostname="localhost") as tls:
            def reader():
                while len(received) < size:
                    chunk = tls.recv(65536)
                    if not chunk:
                        return
                    received.extend(chunk)
            thread = threading.Thread(target=reader)
            thread.start()
            for at in range(0, size, 16384):
                tls.sendall(data[at:at + 16384])
            thread.join(60)
    except (OSError, ssl.SSLError):
        pass
    results.append((size, len(received), bytes(received) == data))


def echo_check(port, clients=20, size=2 * 1024 * 1024):
    results = []
    threads = [threading.Thread(target=echo_client, args=(port, size, i, results))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"clients": clients, "bytes_each": size,
            "bytes_sent": sum(r[0] for r in results),
            "bytes_echoed": sum(r[1] for r in results),
            "all_identical": len(results) == clients and all(r[2] for r in results)}


# ---- 10,000 idle connections ----

async def hold_connections(port, count, source):
    raise_nofile()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    held = []
    gate = asyncio.Semaphore(64)

    async def one():
        async with gate:
            sock = socket.socket()
            sock.bind((source, 0))
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            reader, writer = await asyncio.open_connection(sock=sock, ssl=context,
                                                           server_hostname="localhost")
            # One exchange: the connection is established and the server's tickets are read.
            writer.write(b"x")
            await reader.readexactly(1)
            held.append(writer)

    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    print(json.dumps({"held": len(held), "failed": len(failures),
                      "first_failure": repr(failures[0]) if failures else None}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def idle_test(args, workdir, cert, key, count):
    server, command = start_secctx(args, workdir, cert, key, "echo",
                                   ["--max-connections", str(count), "--idle-timeout", "600000"])
    time.sleep(0.5)
    before = server.rss_kb()
    started = time.monotonic()
    client = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--hold", str(count),
                               "--port", str(server.port)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    report = json.loads(client.stdout.readline())
    opened_in = time.monotonic() - started
    time.sleep(1)
    after = server.rss_kb()
    # Connection N+1: refused at once, before any handshake.
    refused_started = time.monotonic()
    extra = {"refused": False}
    try:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            try:
                context.wrap_socket(raw, server_hostname="localhost").close()
            except (ssl.SSLError, OSError) as e:
                extra = {"refused": True, "client_saw": type(e).__name__}
    except OSError as e:
        extra = {"refused": True, "client_saw": repr(e)}
    extra["milliseconds"] = round((time.monotonic() - refused_started) * 1000, 1)
    time.sleep(0.3)
    extra["log_line"] = "refused: too many connections" in open(server.log).read()
    client.stdin.close()
    client.wait(30)
    server.stop()
    return {"command": " ".join(command), "client": report, "seconds_to_open": round(opened_in, 1),
            "rss_before_kb": before, "rss_after_kb": after,
            "rss_per_connection_bytes": round((after - before) * 1024 / max(1, report["held"])),
            "connection_n_plus_1": extra}


def ratio(a, b):
    return round(a / b, 2) if b else None


def markdown(results):
    """The tables docs/load.md shows."""
    lines = []
    names = results.get("servers", ["secctx", "nginx"])
    ours = [n for n in names if n != "nginx"]
    if "plain" in results:
        plain = results["plain"]
        lines += ["| round | load | server | requests/s | p50 ms | p99 ms | server CPU us/request "
                  "| peak RSS KiB | load average before |", "|---|---|---|---|---|---|---|---|---|"]
        for kind in ("keepalive", "newconn"):
            for i, runs in enumerate(zip(*(plain[n] for n in names))):
                for name, run in zip(names, runs):
                    r = run[kind]
                    lines.append(f"| {i + 1} | {kind} | {name} | {r['requests_per_second']:.0f} | "
                                 f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                                 f"{r['server_cpu_us_per_request']} | {r['peak_rss_kb']} | "
                                 f"{r['loadavg_before']:.1f} |")
        lines.append("")
        lines += ["| load | server | requests/s / nginx's (median of rounds) | CPU per request / "
                  "nginx's (median) |", "|---|---|---|---|"]
        for kind in ("keepalive", "newconn"):
            for name in ours:
                rps = sorted(ratio(a[kind]["requests_per_second"], b[kind]["requests_per_second"])
                             for a, b in zip(plain[name], plain["nginx"]))
                cpu = sorted(ratio(a[kind]["server_cpu_us_per_request"],
                                   b[kind]["server_cpu_us_per_request"])
                             for a, b in zip(plain[name], plain["nginx"]))
                lines.append(f"| {kind} | {name} | {rps[len(rps) // 2]} "
                             f"({', '.join(map(str, rps))}) | "
                             f"{cpu[len(cpu) // 2]} ({', '.join(map(str, cpu))}) |")
        lines.append("")
    if "hostile" in results and "plain" in results:
        lines += ["| server | load | requests/s under attack | fraction of unattacked (median) | "
                  "p99 ms | peak RSS KiB |", "|---|---|---|---|---|---|"]
        for name in names:
            for kind in ("keepalive", "newconn"):
                r = results["hostile"][name]["legit"][kind]
                base = sorted(run[kind]["requests_per_second"] for run in results["plain"][name])
                lines.append(f"| {name} | {kind} | {r['requests_per_second']:.0f} | "
                             f"{ratio(r['requests_per_second'], base[len(base) // 2])} | "
                             f"{r['p99_ms']:.2f} | {r['peak_rss_kb']} |")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secctx", default=os.path.join(ROOT, "build/load/tools/secctx"))
    parser.add_argument("--engines", default="openssl,gnutls",
                        type=lambda text: text.split(","))
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--hostile-each", type=int, default=100)
    parser.add_argument("--attacker-nice", type=int, default=0,
                        help="nice value of the hostile clients (19: they take only idle CPU)")
    parser.add_argument("--idle", type=int, default=10000)
    parser.add_argument("--json", default="load-results.json")
    parser.add_argument("--only", default="plain,hostile,echo,idle")
    parser.add_argument("--hold", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global ATTACKER_NICE
    ATTACKER_NICE = args.attacker_nice
    if args.hold:
        asyncio.run(hold_connections(args.port, args.hold, "127.0.0.3"))
        return
    if not shutil.which("nginx") or not shutil.which("wrk"):
        sys.exit("needs nginx-light and wrk: scripts/deps load")
    raise_nofile()
    workdir = tempfile.mkdtemp(prefix="secctx-load-")
    cert, key = make_certificate(workdir)
    only = args.only.split(",")
    results = {"cpus": os.cpu_count()}
    if "plain" in only or "hostile" in only:
        servers, results["commands"] = [], {}
        try:
            for engine in args.engines:
                server, command = start_secctx(args, workdir, cert, key, "http",
                                               ["--max-connections", "10000"], engine)
                servers.append(server)
                results["commands"][server.name] = " ".join(command)
            nginx, nginx_command = start_nginx(workdir, cert, key)
            servers.append(nginx)
            results["commands"]["nginx"] = " ".join(nginx_command)
            results["servers"] = [s.name for s in servers]
            if "plain" in only:
                # Alternated rounds: the other engineers' load on the shared cores changes
                # from minute to minute.
                results["plain"] = {s.name: [] for s in servers}
                for _ in range(args.rounds):
                    for s in servers:
                        results["plain"][s.name].append(measure(s, args.seconds))
                results["plain"]["resumed"] = {s.name: open(s.log).read().count(" resumed")
                                               for s in servers[:-1]}
            if "hostile" in only:
                results["hostile"] = {}
                for s in servers:
                    run, report, command = under_attack(s, args.seconds, args.hostile_each)
                    results["hostile"][s.name] = {"legit": run, "attack": report,
                                                  "attack_command": command}
                time.sleep(1)
                results["hostile"]["log_causes"] = {s.name: classify(s.log)
                                                    for s in servers[:-1]}
        finally:
            for s in servers:
                s.stop()
    if "echo" in only:
        server, command = start_secctx(args, workdir, cert, key, "echo")
        attack, attack_command = hostile(server.port, 12, args.hostile_each)
        time.sleep(2)
        check = echo_check(server.port)
        rss = server.rss_kb()
        report = json.loads(attack.communicate()[0])
        time.sleep(1)
        results["echo"] = {"command": " ".join(command), "check": check, "attack": report,
                           "attack_command": attack_command, "rss_under_attack_kb": rss,
                           "log_causes": classify(server.log)}
        server.stop()
    if "idle" in only:
        results["idle"] = idle_test(args, workdir, cert, key, args.idle)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()
