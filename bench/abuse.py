"""The attacks of bench/abuse.sh against a portal serving the demo (Python's standard library
only). Usage: abuse.py BASE_URL SERVER_PID WORK_DIR"""

import http.client
import http.cookiejar
import io
import os
import re
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
import zipfile

BASE, PID, WORK = sys.argv[1], int(sys.argv[2]), sys.argv[3]
HOST, PORT = urllib.parse.urlsplit(BASE).hostname, urllib.parse.urlsplit(BASE).port


def alive():
    return os.path.exists(f"/proc/{PID}")


def reset_peak():
    with open(f"/proc/{PID}/clear_refs", "w") as f:
        f.write("5")


def rss(field):
    for line in open(f"/proc/{PID}/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def session(email):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(BASE + "/connexion").read().decode()
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrf_token": csrf, "email": email, "password": "demo-groupement"}).encode()
    opener.open(urllib.request.Request(BASE + "/connexion", data=form,
                                       headers={"Origin": BASE})).read()
    cookie = next(c.value for c in jar if c.name == "groupement_session")
    return opener, cookie


def csrf_of(opener, path):
    page = opener.open(BASE + path).read().decode()
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)


def anonymous_pair():
    conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
    conn.request("GET", "/connexion")
    response = conn.getresponse()
    response.read()
    cookie = re.search(r"groupement_csrf=([0-9a-f]+)", response.getheader("Set-Cookie")).group(1)
    conn.close()
    return cookie


class Beside(threading.Thread):
    """GET / every 20 ms while an attack runs; the latencies in ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop, self.times, self.failures = False, [], 0

    def run(self):
        while not self.stop:
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
                conn.request("GET", "/")
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status != 200:
                    self.failures += 1
                self.times.append((time.perf_counter() - start) * 1000)
            except OSError:
                self.failures += 1
            time.sleep(0.02)


def attack(name, work):
    reset_peak()
    before = rss("VmRSS")
    beside = Beside()
    beside.start()
    start = time.perf_counter()
    summary = work()
    seconds = time.perf_counter() - start
    beside.stop = True
    beside.join()
    median = statistics.median(beside.times) if beside.times else float("nan")
    peak = rss("VmHWM") if alive() else float("nan")
    verdict = "ok" if alive() and peak < 512 and median < 50 else "MISSED"
    print(f"{name:<34} {seconds:6.1f} s  peak RSS {peak:6.0f} MiB (from {before:4.0f})  "
          f"GET / median {median:5.1f} ms ({len(beside.times)} requests, {beside.failures} failed)"
          f"  {'alive' if alive() else 'DEAD'}  {verdict}  — {summary}", flush=True)


def in_threads(count, each):
    threads = [threading.Thread(target=each, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def posts(path, fields, connections, each_count):
    """`connections` clients each posting the form `fields` `each_count` times, with the
    anonymous anti-forgery pair; the answers by status."""
    cookie = anonymous_pair()
    body = urllib.parse.urlencode({"csrf_token": cookie, **fields}).encode()
    statuses = {}
    lock = threading.Lock()

    def each(i):
        conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
        for _ in range(each_count):
            conn.request("POST", path, body=body, headers={
                "Origin": BASE, "Cookie": f"groupement_csrf={cookie}",
                "Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
        conn.close()

    in_threads(connections, each)
    return statuses


def sign_ins():
    email = "x" * 15_000 + "@example.fr"
    statuses = posts("/connexion", {"email": email, "password": "guess"}, 16, 625)
    return f"{sum(statuses.values())} sign-ins, answers {dict(sorted(statuses.items()))}"


def uploads(path, cookie, csrf, content, name, count):
    """`count` concurrent multipart uploads of the file `content`, streamed from disk."""
    boundary = "----abuse-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = os.path.getsize(content)
    statuses = {}
    lock = threading.Lock()

    def each(i):
        conn = http.client.HTTPConnection(HOST, PORT, timeout=300)
        conn.putrequest("POST", path)
        conn.putheader("Origin", BASE)
        conn.putheader("Cookie", f"groupement_session={cookie}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.endheaders()
        conn.send(head)
        with open(content, "rb") as f:
            while chunk := f.read(1 << 16):
                conn.send(chunk)
        conn.send(tail)
        response = conn.getresponse()
        response.read()
        conn.close()
        with lock:
            statuses[response.status] = statuses.get(response.status, 0) + 1

    in_threads(count, each)
    return f"{count} uploads of {size >> 20} MB, answers {dict(sorted(statuses.items()))}"


def bad_links():
    statuses = posts("/mot-de-passe/nouveau", {
        "jeton": "0" * 64, "password": "un mot de passe long",
        "password_confirmation": "un mot de passe long"}, 64, 20)
    return f"{sum(statuses.values())} new passwords with a bad link, answers {dict(sorted(statuses.items()))}"


def bomb():
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>need_id</t></is></c></row>'
             '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>')
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Besoins" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buffer.getvalue()


def main():
    buyer, buyer_cookie = session("buyer.chu@demo.groupement.fr")
    import_csrf = csrf_of(buyer, "/besoins/import")
    print(f"portal at {BASE}, RSS at rest {rss('VmRSS'):.0f} MiB", flush=True)

    attack("10,000 sign-ins, 15 KB e-mails", sign_ins)

    # A supplier's bid on a published lot, then 64 documents of 20 MB at once (the bid takes
    # 10 at most: the others are refused once received — the memory is what is measured).
    siret = re.search(r"supplier\.(\d{14})@demo", open(os.path.join(WORK, "serve.log")).read()).group(1)
    supplier, supplier_cookie = session(f"supplier.{siret}@demo.groupement.fr")
    listing = supplier.open(BASE + "/appels-d-offres").read().decode()
    reference = re.search(r'href="/appels-d-offres/(GRP-[0-9-]+)"', listing).group(1)
    bid_csrf = csrf_of(supplier, f"/appels-d-offres/{reference}/offre")
    form = urllib.parse.urlencode({"csrf_token": bid_csrf, "price_eur": "150000",
                                   "technical_memo": "banc d'essai"}).encode()
    supplier.open(urllib.request.Request(f"{BASE}/appels-d-offres/{reference}/lots/1/offre",
                                         data=form, headers={"Origin": BASE})).read()
    document = os.path.join(WORK, "memoire.pdf")
    with open(document, "wb") as f:
        f.write(b"%PDF-1.7\n")
        f.write(os.urandom(20 * 1024 * 1024 - 16))
    attack("64 uploads of 20 MB at once",
           lambda: uploads(f"/appels-d-offres/{reference}/lots/1/documents", supplier_cookie,
                           bid_csrf, document, "memoire.pdf", 64))

    workbook = os.path.join(WORK, "bombe.xlsx")
    with open(workbook, "wb") as f:
        f.write(bomb())
    attack(f"the xlsx bomb ({os.path.getsize(workbook)} bytes)",
           lambda: uploads("/besoins/import", buyer_cookie, import_csrf, workbook, "bombe.xlsx", 1))

    rows = os.path.join(WORK, "lignes.csv")
    with open(rows, "wb") as f:
        f.write(b"a\n" * 5_000_000)
    attack("a 10 MB CSV of 5 million rows",
           lambda: uploads("/besoins/import", buyer_cookie, import_csrf, rows, "lignes.csv", 1))

    attack("64 bad-link password resets at once", bad_links)
    print("the portal is " + ("alive" if alive() else "DEAD"), flush=True)
    sys.exit(0 if alive() else 1)


main()
