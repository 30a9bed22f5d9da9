"""`make bench`: every page and main API endpoint as the role that uses it, against the bare view.

Each figure is a ratio measured in one run: requests to the page alternate with requests to the
bare login-required view (`BENCH_BARE_VIEW`), so a noisy machine slows both alike. Query counts
come from the `X-Bench-Queries` header the same setting adds. See README "Benchmark".
"""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import requests
from django.db import connection
from django.db.models import Exists, OuterRef

from iop.accounts.models import User
from iop.demo.generator import DEMO_PASSWORD, demo_patients, seed_demo_clinic
from patients.models import CareTeamMember, CareTeamRole, EpisodeStatus, Referral, ReferralStatus

# The reference workload at scale 1: one organisation, 5 sites, 26,000 patients (5,000 active,
# 20,000 discharged, 1,000 in intake), discharges over two years, the care teams' chart reads.
REFERENCE_PATIENTS = 26_000
REFERENCE_SITES = 5
HISTORY_WEEKS = 104
BARE_PATH = "/bench/bare/"
BUDGET_MS = 50
BUDGET_RATIO = 4


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # the demo login that uses it
    path: str


@dataclass
class Figure:
    name: str
    role: str
    median_ms: float
    p95_ms: float
    bare_median_ms: float
    ratio: float
    queries: int
    status: int


@dataclass
class Throughput:
    name: str
    role: str
    requests_per_s: float
    bare_requests_per_s: float
    share_of_bare: float


def seed_reference(scale: float, progress=None) -> int:
    """Build (or complete) the reference workload at `scale`; the number of demo patients."""
    patients = max(30, round(REFERENCE_PATIENTS * scale))
    if demo_patients().count() < patients:
        seed_demo_clinic(
            patients=patients,
            sites=REFERENCE_SITES,
            weeks=8,
            history_weeks=HISTORY_WEEKS,
            mix="reference",
            progress_stream=progress,
        )
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would have by morning
        cursor.execute("ANALYZE")
    return demo_patients().count()


def pages() -> list[Page]:
    """What each role opens in a working day, on patients it really has."""
    clinician = User.objects.get(username="clinician")
    on_team = CareTeamMember.objects.filter(user=clinician, ended_on__isnull=True)
    active = (
        on_team.filter(episode__status=EpisodeStatus.ACTIVE, role=CareTeamRole.PRIMARY_CLINICIAN)
        .select_related("episode__patient")
        .order_by("episode__admitted_on", "pk")
        .first()
    )
    if active is None:
        raise RuntimeError("The demo clinician has no active patient: seed the reference workload first.")
    patient = active.episode.patient
    last_name = patient.legal_last_name
    chart = f"/patients/{patient.public_id}/"
    case_manager_patient = (
        CareTeamMember.objects.filter(user__username="casemanager", episode__status=EpisodeStatus.ACTIVE)
        .select_related("episode__patient")
        .order_by("pk")
        .first()
        .episode.patient
    )
    cm_chart = f"/patients/{case_manager_patient.public_id}/"
    intake = (
        demo_patients()
        .filter(site__in=clinician.sites.all())
        .filter(Exists(Referral.objects.filter(patient=OuterRef("pk"), status=ReferralStatus.OPEN)))
        .order_by("pk")
        .first()
    )
    result = [
        Page("home", "clinician", "/"),
        Page("patient list", "clinician", "/patients/"),
        Page("patient list, page 2", "clinician", "/patients/?page=2"),
        Page("patient search by name", "clinician", f"/patients/?q={last_name}"),
        Page("chart", "clinician", chart),
        *(
            Page(f"chart: {tab}", "clinician", f"{chart}{tab}/")
            for tab in ("intake", "phases", "tests", "plan")
        ),
        Page("consents", "clinician", f"{chart}consents/"),
        Page("availability", "clinician", f"{chart}availability/"),
        Page("medications", "clinician", f"{chart}medications/"),
        Page("ASAM history", "clinician", f"{chart}asam/"),
        Page("PHQ-9 history", "clinician", f"{chart}instruments/phq-9/history/"),
        Page("intake queue", "clinician", "/patients/intake/"),
        Page("new referral form", "clinician", "/patients/intake/new/"),
        Page("API patients", "clinician", "/api/v1/patients/"),
        Page("API patient", "clinician", f"/api/v1/patients/{patient.public_id}/"),
        Page("API episodes", "clinician", "/api/v1/episodes/"),
        Page("API referrals", "clinician", "/api/v1/referrals/"),
        Page("API treatment plans", "clinician", f"/api/v1/treatment-plans/?patient={patient.public_id}"),
        Page("API test reviews", "clinician", "/api/v1/test-reviews/"),
        Page("home", "casemanager", "/"),
        Page("patient list", "casemanager", "/patients/"),
        Page("chart", "casemanager", cm_chart),
        Page("availability", "casemanager", f"{cm_chart}availability/"),
        Page("home", "admin", "/"),
        Page("patient list", "admin", "/patients/"),
        Page("patient list, page 50", "admin", "/patients/?page=50"),
        Page("patient search by name", "admin", f"/patients/?q={last_name}"),
        Page("chart", "admin", chart),
        Page("intake queue", "admin", "/patients/intake/"),
        Page("sites", "admin", "/manage/sites/"),
        Page("staff", "admin", "/manage/staff/"),
        Page("emergency access log", "admin", "/patients/access-log/"),
        Page("testing worklist", "admin", "/testing/worklist/"),
        Page("API patients", "admin", "/api/v1/patients/"),
    ]
    if intake is not None:
        result.insert(13, Page("intake chart", "clinician", f"/patients/{intake.public_id}/intake/"))
    return result + scheduling_pages(clinician, chart, cm_chart)


def scheduling_pages(clinician, chart: str, cm_chart: str) -> list[Page]:
    """Issue 8: the roster of the demo clinician's fullest group in the last two weeks, the
    Schedule tab, the schedule builder (a site with ~40 series in the reference workload)."""
    from django.utils import timezone

    from scheduling.models import Occurrence
    from scheduling.selectors import with_roster_counts

    today = timezone.localdate()
    occurrence = (
        with_roster_counts(
            Occurrence.objects.filter(
                facilitator=clinician,
                local_date__range=(today - timedelta(days=14), today),
                status="scheduled",
            )
        )
        .order_by("-enrolled_count", "-local_date")
        .first()
    )
    found = [
        Page("group series", "clinician", "/schedule/"),
        Page("chart: schedule", "clinician", f"{chart}schedule/"),
        Page("chart: schedule", "casemanager", f"{cm_chart}schedule/"),
        Page("schedule builder", "casemanager", f"{cm_chart}schedule/builder/"),
        Page("API attendance", "clinician", "/api/v1/attendance/"),
    ]
    if occurrence is not None:
        roster = f"/schedule/sessions/{occurrence.public_id}/"
        found.insert(0, Page(f"roster ({occurrence.enrolled_count} enrolled)", "clinician", roster))
    return found


def login(base_url: str, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base_url}/accounts/login/", timeout=30)
    response = session.post(
        f"{base_url}/accounts/login/",
        data={
            "username": username,
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
        },
        headers={"Referer": f"{base_url}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"Could not sign in as {username} (HTTP {response.status_code}).")
    return session


def _timed_get(session: requests.Session, url: str) -> tuple[float, requests.Response]:
    start = time.perf_counter()
    response = session.get(url, allow_redirects=False, timeout=60)
    return (time.perf_counter() - start) * 1000, response


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def measure(session: requests.Session, base_url: str, page: Page, requests_each: int) -> Figure:
    """`requests_each` requests to the page, each followed by one to the bare view."""
    url, bare = base_url + page.path, base_url + BARE_PATH
    for _ in range(min(5, requests_each)):  # warm-up: caches, connections, templates
        _timed_get(session, url)
        _timed_get(session, bare)
    page_times, bare_times = [], []
    queries, status = 0, 0
    for _ in range(requests_each):
        elapsed, response = _timed_get(session, url)
        page_times.append(elapsed)
        queries, status = int(response.headers.get("X-Bench-Queries", -1)), response.status_code
        bare_times.append(_timed_get(session, bare)[0])
    median, bare_median = statistics.median(page_times), statistics.median(bare_times)
    return Figure(
        name=page.name,
        role=page.role,
        median_ms=round(median, 1),
        p95_ms=round(_p95(page_times), 1),
        bare_median_ms=round(bare_median, 1),
        ratio=round(median / bare_median, 2),
        queries=queries,
        status=status,
    )


def requests_per_second(
    session: requests.Session, url: str, *, connections: int = 8, seconds: float = 5
) -> float:
    """Requests per second `connections` clients get for `seconds`, each on its own connection."""
    done = [0] * connections
    stop = time.perf_counter() + seconds

    def client(number: int) -> None:
        own = requests.Session()
        own.cookies.update(session.cookies)
        while time.perf_counter() < stop:
            own.get(url, allow_redirects=False, timeout=60)
            done[number] += 1

    threads = [threading.Thread(target=client, args=(number,)) for number in range(connections)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - start)


def run(
    base_url: str,
    *,
    requests_each: int,
    throughput_seconds: float,
    connections: int = 8,
    only: str = "",
    out=sys.stdout,
    on_figure=None,
) -> tuple[list[Figure], list[Throughput]]:
    """Measure every page (then the throughputs); `on_figure(figures)` after each page, so an
    interrupted run still leaves what it measured."""
    targets = [page for page in pages() if only.lower() in f"{page.role} {page.name}".lower()]
    sessions = {role: login(base_url, role) for role in sorted({page.role for page in targets})}
    figures = []
    for page in targets:
        figure = measure(sessions[page.role], base_url, page, requests_each)
        figures.append(figure)
        out.write(_row(figure) + "\n")
        out.flush()
        if on_figure is not None:
            on_figure(figures)
    throughputs = []
    if throughput_seconds > 0:
        by_name = {(page.role, page.name): page for page in targets}
        for key in (("clinician", "patient list"), ("clinician", "chart")):
            page = by_name.get(key)
            if page is None:
                continue
            session = sessions[page.role]
            bare = requests_per_second(
                session, base_url + BARE_PATH, connections=connections, seconds=throughput_seconds
            )
            rate = requests_per_second(
                session, base_url + page.path, connections=connections, seconds=throughput_seconds
            )
            throughputs.append(
                Throughput(page.name, page.role, round(rate, 1), round(bare, 1), round(rate / bare, 2))
            )
            out.write(
                f"throughput {page.name:<19} {rate:7.1f}/s  bare {bare:7.1f}/s  {rate / bare:5.2f} of bare\n"
            )
            out.flush()
    return figures, throughputs


HEADER = f"{'page':<30} {'role':<12} {'median':>7} {'p95':>7} {'bare':>6} {'ratio':>6} {'queries':>7}  budget"


def _row(figure: Figure) -> str:
    within = figure.median_ms < BUDGET_MS and figure.ratio <= BUDGET_RATIO and figure.status == 200
    verdict = "ok" if within else (f"HTTP {figure.status}" if figure.status != 200 else "OVER")
    return (
        f"{figure.name:<30} {figure.role:<12} {figure.median_ms:7.1f} {figure.p95_ms:7.1f} "
        f"{figure.bare_median_ms:6.1f} {figure.ratio:6.2f} {figure.queries:7d}  {verdict}"
    )


def write_results(path: Path, *, scale: float, patients: int, figures, throughputs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "scale": scale,
        "patients": patients,
        "pages": [asdict(figure) for figure in figures],
        "throughput": [asdict(item) for item in throughputs],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def production_server(*, workers: int = 2, port: int | None = None) -> Iterator[str]:
    """gunicorn as in docker-compose.yml (sync workers, DEBUG off) with the bench setting on."""
    port = port or free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "BENCH_BARE_VIEW": "true",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "iop.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--worker-class", "sync", "--timeout", "60"]
    command += ["--no-control-socket", "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)  # noqa: S603 - our own gunicorn, fixed arguments
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base_url}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start (see its output above).")
            time.sleep(0.3)
        yield base_url
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
