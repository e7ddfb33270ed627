"""Fixtures for the ensemble suites: the topology parameter, one shared ensemble per module and
topology, fresh ensembles for tests that need their own config, the log scan after every test, and
the timing summary printed at the end of the session.

Topologies come from `--topology a,b` or ENSEMBLE_TOPOLOGIES (default `java3,observer_java`, the
all-Java ones that must pass today). A test marked `@pytest.mark.topologies("participants")` runs on
every selected topology without observers, `"observers"` on those with observers, `"rolling"` only on
the `rolling` pseudo-topology; a test with no selected topology is deselected, never reported as passed.
"""

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import ensemble as E  # noqa: E402
import logscan  # noqa: E402
import treecmp  # noqa: E402

DEFAULT_TOPOLOGIES = "java3,observer_java"
NOTES = []  # lines for the end-of-session summary (failover times, sync modes, durations)
_NONE = "no-selected-topology"


def note(line):
    NOTES.append(line)
    print(line)


def pytest_addoption(parser):
    parser.addoption("--topology", default=None,
                     help="comma-separated topologies (%s); default ENSEMBLE_TOPOLOGIES or %s"
                          % (", ".join(E.TOPOLOGIES), DEFAULT_TOPOLOGIES))


def pytest_configure(config):
    config.addinivalue_line("markers", "topologies(kind): participants | observers | rolling")
    config.addinivalue_line("markers", "ci: the bounded subset ci.sh runs on every topology")


def selected(config):
    raw = config.getoption("--topology") or os.environ.get("ENSEMBLE_TOPOLOGIES") or DEFAULT_TOPOLOGIES
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in E.TOPOLOGIES]
    if unknown:
        raise pytest.UsageError("unknown topologies %s; known: %s" % (unknown, ", ".join(E.TOPOLOGIES)))
    return names


def pytest_generate_tests(metafunc):
    if "topology" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("topologies")
    kind = marker.args[0] if marker else "participants"
    names = []
    for n in selected(metafunc.config):
        topo = E.TOPOLOGIES[n]
        if topo.get("rolling"):
            ok = kind == "rolling"
        elif kind == "rolling":
            ok = False
        else:
            ok = (kind == "observers") == bool(topo["observers"])
        if ok:
            names.append(n)
    metafunc.parametrize("topology", names or [_NONE], scope="module")


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for it in items:
        cs = getattr(it, "callspec", None)
        (drop if cs is not None and cs.params.get("topology") == _NONE else keep).append(it)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        item.session.ensemble_failures = True


def pytest_terminal_summary(terminalreporter):
    if NOTES:
        terminalreporter.section("ensemble measurements")
        for line in NOTES:
            terminalreporter.write_line(line)


class Scenario:
    """An ensemble plus its incremental log scanner, for one test or one module."""

    def __init__(self, ens):
        self.ens = ens
        self.scanner = logscan.LogScanner(ens)
        self.syncs = []

    def scan(self):
        rep = self.scanner.scan()
        self.syncs += rep.syncs
        return rep

    def check_logs(self, what):
        """Scans the logs written since the last check; fails on forbidden Java lines."""
        rep = self.scan()
        print(rep.render())
        assert not rep.failed(), "forbidden lines in Java logs after %s:\n%s" % (what, rep.render())
        return rep

    def check_trees(self, members=None):
        summary, diffs = treecmp.compare_members(self.ens, members)
        print(summary)
        assert not diffs, summary

    def mark(self):
        """Scans, and returns a position in the sync history for `learner_modes(since=...)`."""
        self.scan()
        return len(self.syncs)

    def learner_modes(self, sid, since=0):
        """Sync modes member `sid` logged about itself (authoritative), oldest first."""
        return [e.mode for e in self.syncs[since:] if e.side == "learner" and e.learner == sid]

    def leader_modes(self, sid, since=0):
        """Sync modes a leader logged for learner `sid`."""
        return [e.mode for e in self.syncs[since:] if e.side == "leader" and e.learner == sid]


def start_ensemble(topology, **kw):
    t0 = time.monotonic()
    ens = E.Ensemble(topology, name=kw.pop("name", topology), **kw)
    try:
        ens.start()
        if ens.leader_kind:
            lead = ens.force_leader_kind(ens.leader_kind)
        else:
            lead = ens.wait_ready()
    except BaseException:
        ens.keep = True
        ens.close()
        raise
    print("ensemble %s up in %.1f s, leader %s, dir %s" % (ens.name, time.monotonic() - t0, lead.name, ens.dir))
    return ens


def finish(request, sc):
    failed = getattr(request.session, "ensemble_failures", False)
    try:
        rep = sc.scan()
        if rep.findings or rep.syncs:
            print(rep.render())
        if rep.failed():
            failed = True
            pytest.fail("forbidden lines in Java logs at teardown:\n%s" % rep.render(), pytrace=False)
    finally:
        if failed:
            sc.ens.keep = True
        sc.ens.close()


@pytest.fixture(scope="module")
def shared(request, topology):
    """One ensemble per module and topology; tests call `ens.ensure_all_running()` first."""
    sc = Scenario(start_ensemble(topology))
    yield sc
    finish(request, sc)


@pytest.fixture
def scenario(request, shared):
    shared.ens.ensure_all_running()
    shared.scan()  # start the test with a clean scan window
    yield shared
    rep = shared.scan()
    if rep.failed():
        shared.ens.keep = True
        pytest.fail("forbidden lines in Java logs after %s:\n%s" % (request.node.name, rep.render()), pytrace=False)


@pytest.fixture
def fresh(request):
    """Factory for ensembles with their own config (closed and scanned at the end of the test)."""
    made = []

    def make(topology, **kw):
        sc = Scenario(start_ensemble(topology, **kw))
        made.append(sc)
        return sc

    yield make
    for sc in made:
        finish(request, sc)
