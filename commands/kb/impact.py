"""``cicatrix kb impact``: what a knowledge-base change does to real plans, before it ships.

Every patient of a cohort is planned under the old knowledge base (``--from``)
and the new one (``--to``), each loaded and compiled once. Either defaults to the
bundled knowledge base, ``--to`` (alias ``--kb``) first to ``CICATRIX_KB`` as every
command's knowledge base does: an author who copied the bundled one with ``kb init``
and edited it gives ``--to`` alone; one who keeps a release to compare with
(``git worktree``) gives ``--from``, and ``--to`` when the new one is not the
default. The plans are compared (:mod:`...engine.authoring.impact`) and the
first example of each kind of change is explained from a trace built in memory,
as ``trace how`` or ``trace why-not`` would explain it under the new knowledge
base.

A cohort is read by one reader per kind of path (:data:`READERS`): a patient
file, a YAML stream or knowledge-base test-case file, a JSON-lines or CSV batch,
a consultation store (``--store``), a folder of files. Each reader yields, per
patient, its name (the file, ``file:LINE``, ``store#ID``) and what each knowledge
base reads of it: a CSV row is typed by each knowledge base's own templates,
every other record is read once. Another kind of cohort is one more reader and
one more branch in :func:`_kind`.

With ``--dask`` the cohort is still read here and the report built here, in
cohort order; only the consultations go to a Dask cluster, in partitions, on
workers that load both knowledge bases themselves (:mod:`..dask_pool`). They
send back plans, not the engine's results (which do not travel), so the few
patients whose changes are explained are planned again here: the same report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import click

from .. import completion
from ..dask_pool import dask_options
from ..options import text_width

Side = tuple[Any, tuple[Any, ...]]
"""What one knowledge base reads of a patient: its data (a Document, or plain data), and problems if unreadable."""

Member = tuple[str, Side, Side]
"""One patient of the cohort: its name, and what the old and the new knowledge base read of it."""

Reader = Callable[[Path, Any, Any], Iterator[Member]]

PATIENT_SUFFIXES = (".yaml", ".yml", ".json")
_SQLITE = b"SQLite format 3\x00"  # the first bytes of every SQLite file
BATCH_SUFFIXES = (".jsonl", ".ndjson", ".csv")


@click.command("impact")
@click.argument("cohort", metavar="COHORT...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--from",
    "from_kb",
    metavar="OLD_KB",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The knowledge base before the change: a folder (a `git worktree` of the last release, a copy kept "
    "before editing; default: the bundled one).",
)
@click.option(
    "--to",
    "--kb",
    "kb_dir",
    metavar="NEW_KB",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CICATRIX_KB",
    show_envvar=True,
    default=None,
    help="The knowledge base after the change (default: the one every command uses: CICATRIX_KB, else the "
    "bundled one).",
)
@click.option(
    "--fail-on",
    "fail_on",
    metavar="KIND:ID",
    multiple=True,
    shell_complete=completion.fail_on,
    help="Exit 1 when this change happens in any plan (repeatable). KIND: added, removed, choice, alternative, "
    "recommended, left-out, avoid (moved into it), changed (changed:* any plan change), alert-gained, "
    "alert-lost, alert-changed; ID a treatment or alert id, or a glob (*).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--examples", type=click.IntRange(0, 1000), default=3, show_default=True,
              help="Example patients kept for each kind of change.")  # fmt: skip
@click.option("--reasons", type=click.IntRange(0, 1000), default=1, show_default=True,
              help="Of those, how many are explained (how, or why not, under NEW_KB).")  # fmt: skip
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE (atomically; - is standard output).")
@click.option(
    "--width",
    type=click.IntRange(40, 200),
    help="Wrap text at this width (default: the terminal's, at most 100; else 88).",
)
@dask_options
def impact(
    cohort: tuple[Path, ...],
    from_kb: Path | None,
    kb_dir: Path | None,
    fail_on: tuple[str, ...],
    fmt: str,
    examples: int,
    reasons: int,
    output: str | None,
    width: int | None,
    dask: str | None,
    partition_size: int,
    dask_timeout: float,
) -> int:
    """Plan every patient of COHORT under OLD_KB and NEW_KB, and report what changed.

    COHORT: patient files (YAML or JSON), YAML streams (documents separated by
    ---), knowledge-base test files (kb/tests/*.yaml: each case's patient), JSON
    lines (.jsonl) or CSV batches, folders of these, or consultation stores
    (--store files: each recorded patient). Reports how many plans changed, each
    option that moved between a plan's categories (choice, alternative,
    recommended, left_out, avoid, or absent), alerts gained or lost, problems
    whose choice changed, patients only one knowledge base can plan, and the
    first examples of each change with the reason under NEW_KB.

    OLD_KB and NEW_KB default to the bundled knowledge base (NEW_KB to
    CICATRIX_KB when it is set); give at least one of them.

    --dask SCHEDULER plans the patients on a Dask cluster (--dask local: this
    machine's cores), with the same report; the folders of OLD_KB and NEW_KB
    must then be on a path every worker can read.

    \b
    Exit status: 1 when a --fail-on condition is met, 2 for bad input, else 0.
    Examples:
      cicatrix kb impact --to mykb/ examples/ mykb/tests/     (the bundled one -> your copy)
      git worktree add /tmp/released v1.0
      cicatrix kb impact --from /tmp/released/kb --to kb/ examples/ --fail-on removed:tca_cross
      cicatrix kb impact --from old-kb/ patients.jsonl --format json -o impact.json --fail-on 'changed:*'
    """
    from ...engine.authoring import impact as engine
    from ...engine.common.errors import CicatrixError
    from ...engine.common.files import write_atomically
    from ...engine.compile.compiler import compile_kb
    from ...engine.knowledge.cache import load_cached
    from ...engine.session.session import Session

    if from_kb is None and kb_dir is None:
        raise CicatrixError.about(
            "", "nothing to compare: give --from OLD_KB (before the change) or --to NEW_KB (after it), or both"
        )
    kinds = [_kind(path) for path in cohort]  # every bad path reported before anything runs
    bad = [k for k in kinds if isinstance(k, CicatrixError)]
    if bad:
        raise CicatrixError(p for e in bad for p in e.problems)
    old_kb, new_kb = load_cached(from_kb), load_cached(kb_dir)
    (old_ids, old_alerts), (new_ids, new_alerts) = engine.known_ids(old_kb), engine.known_ids(new_kb)
    conditions = engine.conditions(fail_on, old_ids | new_ids, old_alerts | new_alerts)
    if old_kb.digest == new_kb.digest:
        same = " and ".join(str(p) if p is not None else "the bundled knowledge base" for p in (from_kb, kb_dir))
        click.echo(f"cicatrix: note: {same} are the same knowledge base: no plan can change", err=True)
    explainer = _Explainer(new_kb) if reasons else None
    report = engine.Impact(conditions, examples, min(reasons, examples), explainer)
    members = (m for path, kind in zip(cohort, kinds, strict=True) for m in READERS[str(kind)](path, old_kb, new_kb))
    if dask is None:
        old, new = Session(compile_kb(old_kb)), Session(compile_kb(new_kb))
        for where, before, after in members:
            report.add(where, _outcome(old, before, where), _outcome(new, after, where))
    else:
        from ..dask_pool import Cluster

        with Cluster(dask, dask_timeout) as cluster:  # closed here, however the loop ends
            cluster.start()
            args = _dask_args((from_kb, old_kb), (kb_dir, new_kb))
            for (where, _, after), outcomes in cluster.ordered(_dask_partition, args, members, partition_size, 0):
                if explainer is not None:
                    explainer.side = after
                report.add(where, *outcomes)
    if not report.patients:
        raise CicatrixError.about(" ".join(map(str, cohort)), "the cohort holds no patients: nothing to compare")
    data = report.to_dict(_describe(old_kb, from_kb), _describe(new_kb, kb_dir))
    if fmt == "json":
        import json

        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    else:
        from ...render.impact import render

        text = render(data, width=width or text_width())
    if output is not None and output != "-":
        write_atomically(output, text)
    elif fmt == "text":
        from ..options import show

        show(text)
    else:
        click.echo(text, nl=False)
    return int(data["status"])


def _dask_args(old: tuple[Path | None, Any], new: tuple[Path | None, Any]) -> tuple[Any, ...]:
    """What every task carries to find the two knowledge bases on its worker: folders (absolute;
    None, the bundled one), digests, and the matcher (the workers' environment is not ours).

    The cohort is read here, as without Dask (a CSV row is typed by each
    knowledge base); the workers load both knowledge bases themselves and send
    back plans without the engine's result, which only an explanation needs
    (see :class:`_Explainer`).
    """
    from ...engine.match.select import matcher_name
    from ..dask_pool import worker_folder

    (old_folder, old_kb), (new_folder, new_kb) = old, new
    return (worker_folder(old_folder), old_kb.digest, worker_folder(new_folder), new_kb.digest, matcher_name())


def _dask_partition(
    old_folder: str | None, old_digest: str, new_folder: str | None, new_digest: str, matcher: str, part: list[Member]
) -> list[tuple[Any, Any]]:
    """On a Dask worker: each member's outcome under the old and the new knowledge base, kept compiled there."""
    import dataclasses

    from ..dask_pool import worker_kb

    old = worker_kb(old_folder, old_digest, matcher)
    new = worker_kb(new_folder, new_digest, matcher)
    out = []
    for where, before, after in part:
        with old.lock:
            first = _outcome(old.session, before, where)
        with new.lock:
            second = _outcome(new.session, after, where)
        out.append((dataclasses.replace(first, result=None), dataclasses.replace(second, result=None)))
    return out


def _describe(kb: Any, path: Path | None) -> dict[str, Any]:
    """A knowledge base as the report names it: the folder as given (null: the bundled one), name, version, digest."""
    return {"path": str(path) if path is not None else None, "name": kb.name, "version": kb.version,
            "digest": kb.digest}  # fmt: skip


def _outcome(session: Any, side: Side, where: str) -> Any:
    from ...engine.authoring import impact as engine

    data, problems = side
    return engine.failed(problems) if problems else engine.consult(session, data, where)


# --- explaining a change --------------------------------------------------------------------


class _Explainer:
    """The reason for one change, under the new knowledge base, as a JSON-able tree.

    How the new knowledge base concluded what it now concludes (``trace how``),
    or why not (``trace why-not``) when an option left the plan, moved into
    left_out, or was demoted (from choice to alternative, say). The trace is
    built in memory once per patient, however many of its changes are explained.
    """

    RANKED = ("choice", "alternative", "recommended")

    def __init__(self, kb: Any):
        self.kb = kb
        self._last: tuple[Any, Any] | None = None  # the outcome last explained, and its trace
        self.side: Side | None = None  # --dask: what the new knowledge base reads of the patient being added
        self._session: Any = None

    def __call__(self, subject: Any, before: Any, after: Any, where: str) -> dict[str, Any]:
        from ...engine.common.errors import CicatrixError
        from ...engine.explain.tree import Node

        kind, ident, was, now = subject
        try:
            trace = self._trace(after, where)
            if kind == "treatment":
                node = self._treatment(trace, ident, was, now)
                if node.text.endswith("was not recommended.") or now == "left_out":
                    node.children.append(self._before(before.plan, ident, was))
            elif kind == "alert":
                node = self._alert(trace, ident, now)
                if now is None:
                    node.children.append(self._before(before.plan, ident, was, "alerts"))
            else:
                from ...engine.explain.how import how

                node = how(trace, ident)
        except CicatrixError as exc:
            node = Node(exc.render())
        return _tree(node)

    def _trace(self, after: Any, where: str) -> Any:
        from ...engine.explain.tracefile import from_result

        if self._last is None or self._last[0] is not after:  # held, so never confused with a later one
            self._last = (after, from_result(self.kb, self._result(after, where), after.plan, where))
        return self._last[1]

    def _result(self, after: Any, where: str) -> Any:
        """The engine's result behind an outcome. A Dask worker sends back the plan alone (a result
        holds the engine's objects, which do not travel): the few patients explained are planned
        again here, under the same knowledge base, which gives the same plan."""
        if after.result is not None or self.side is None:
            return after.result
        from ...engine.compile.compiler import compile_kb
        from ...engine.session.session import Session

        if self._session is None:
            self._session = Session(compile_kb(self.kb))
        return _outcome(self._session, self.side, where).result

    def _treatment(self, trace: Any, ident: str, was: str | None, now: str | None) -> Any:
        from ...engine.explain.how import how
        from ...engine.explain.tree import Node
        from ...engine.explain.why_not import why_not

        missing = [part for part in ident.split("+") if part not in self.kb.treatments]
        if missing:
            return Node(f"{ident}: the new knowledge base's catalogue has no {', '.join(missing)}")
        demoted = was in self.RANKED and now in self.RANKED and self.RANKED.index(now) > self.RANKED.index(was)
        if now is None or now == "left_out" or demoted:
            return why_not(trace, ident)
        return how(trace, ident)

    def _before(self, plan: dict[str, Any], ident: str, was: str | None, key: str = "") -> Any:
        """What the old knowledge base concluded, and which of its rules the new one no longer has."""
        from ...engine.explain.tree import Node

        key = key or {"avoid": "avoid", "left_out": "left_out"}.get(str(was), "recommendations")
        entry = next((x for x in plan.get(key, []) if x["id"] == ident), None)
        rules = entry["rules"] if entry else []
        known = {r.id for r in self.kb.rules}
        named = [f"{r} (gone from --to)" if r not in known else r for r in rules]
        return Node(f"under --from it was {was}" + (f", by rule {', '.join(named)}" if named else ""))

    def _alert(self, trace: Any, ident: str, now: str | None) -> Any:
        from ...engine.explain.how import how
        from ...engine.explain.tree import Node
        from ...engine.explain.why_not import first_failure

        if now is not None:
            return how(trace, ident)
        root = Node(f"{ident} is no longer raised.")
        fired = {f.rule: f.seq for f in trace.firings}
        for rule in trace.rules.values():
            if not any(c["kind"] == "alert" and c.get("target") == ident for c in rule.concludes):
                continue
            if rule.id in fired:
                root.children.append(
                    Node(f"rule {rule.id} fired (#{fired[rule.id]}), but its conclusion did not stand")
                )
                continue
            failure = first_failure(trace, rule) or Node("all its conditions held, yet it did not fire (pre-empted)")
            root.children.append(Node(f"rule {rule.id} - {rule.title}", [failure]))
        if not root.children:
            root.children.append(Node(f"no rule of the new knowledge base raises {ident}"))
        return root


def _tree(node: Any) -> dict[str, Any]:
    return {"text": node.text, "children": [_tree(c) for c in node.children]}


# --- reading a cohort ------------------------------------------------------------------------


def _kind(path: Path) -> str | Any:
    """The reader for a cohort path, or the error saying why it is none (returned, to report all at once)."""
    from ...engine.common.errors import CicatrixError

    if str(path) == "-":
        return CicatrixError.about("-", "a cohort is read from files (each is read under both knowledge bases)")
    if path.is_dir():
        if not _folder_files(path):
            suffixes = ", ".join(PATIENT_SUFFIXES + BATCH_SUFFIXES)
            return CicatrixError.about(str(path), f"no patient or batch files ({suffixes}) in this folder")
        return "folder"
    if not path.exists():
        return CicatrixError.about(str(path), "no such file or folder")
    if _is_store(path):
        return "store"
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    return CicatrixError.about(
        str(path),
        "not a cohort file: expected a patient file (.yaml, .yml, .json), a batch (.jsonl, .csv), "
        "a consultation store or a folder",
    )


def _is_store(path: Path) -> bool:
    """A consultation store is an SQLite file, whatever its name (``--store`` takes any)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(_SQLITE)) == _SQLITE
    except OSError:
        return False  # reported as unreadable by the reader its suffix picks


def _folder_files(folder: Path) -> list[Path]:
    """The cohort files directly in a folder, by name (hidden files and other suffixes ignored; a store
    in a folder is named on the command line, not found, since a folder of plans may well hold one)."""
    suffixes = PATIENT_SUFFIXES + BATCH_SUFFIXES + (".ndjson",)
    return sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes
    )


def _open(path: Path) -> IO[bytes]:
    from ...engine.common.errors import CicatrixError

    try:
        return open(path, "rb")
    except OSError as exc:
        raise CicatrixError.about(str(path), f"cannot read: {(exc.strerror or str(exc)).lower()}") from None


def read_folder(folder: Path, old_kb: Any, new_kb: Any) -> Iterator[Member]:
    """Each cohort file directly in the folder, in name order, read by its own kind."""
    for path in _folder_files(folder):
        yield from READERS[str(_kind(path))](path, old_kb, new_kb)


def read_json(path: Path, old_kb: Any, new_kb: Any) -> Iterator[Member]:
    """A JSON patient file, read as `consult` reads it."""
    from ...engine.common.errors import CicatrixError
    from ...engine.documents import yamlio

    try:
        side: Side = (yamlio.read(path), ())
    except CicatrixError as exc:
        side = (None, exc.problems)
    yield str(path), side, side


def read_yaml(path: Path, old_kb: Any, new_kb: Any) -> Iterator[Member]:
    """A YAML patient file, a stream of patients (``---``), or a test-case file (``cases:``, each with a patient).

    A file with one document is named by the file alone; otherwise each patient
    by ``file:LINE`` (a test case also by its id).
    """
    from ...engine.patient import batchio

    with _open(path) as stream:
        records = batchio.read_yaml(stream, str(path))
        first = next(records, None)
        second = next(records, None)
        alone = second is None
        for line, doc, problems in (r for r in (first, second) if r is not None):
            yield from _yaml_record(path, line, doc, problems, alone)
        for line, doc, problems in records:
            yield from _yaml_record(path, line, doc, problems, False)


def _yaml_record(path: Path, line: int, doc: Any, problems: Any, alone: bool) -> Iterator[Member]:
    where = str(path) if alone else f"{path}:{line}"
    if problems:
        yield where, (None, problems), (None, problems)
    elif isinstance(doc.data, dict) and isinstance(doc.data.get("cases"), list):
        yield from _cases(path, doc)
    else:
        yield where, (doc, ()), (doc, ())


def _cases(path: Path, doc: Any) -> Iterator[Member]:
    """The patients of a knowledge-base test file, each named by its line and case id."""
    from ...engine.documents import yamlio

    for i, case in enumerate(doc.data["cases"]):
        mark = doc.mark(("cases", i))
        ident = case.get("id") if isinstance(case, dict) else None
        where = f"{path}:{mark.line if mark else '?'}" + (f" ({ident})" if isinstance(ident, str) else "")
        inside = ("cases", i, "patient")
        if not isinstance(case, dict) or "patient" not in case:
            problems = (doc.problem(("cases", i), "a test case without a patient"),)
            yield where, (None, problems), (None, problems)
            continue
        patient = yamlio.Document(
            file=doc.file,
            data=case["patient"],
            marks={k[3:]: v for k, v in doc.marks.items() if k[:3] == inside},
            key_marks={k[3:]: v for k, v in doc.key_marks.items() if k[:3] == inside},
        )
        yield where, (patient, ()), (patient, ())


def read_jsonl(path: Path, old_kb: Any, new_kb: Any) -> Iterator[Member]:
    """A JSON-lines batch, as `batch` reads it: each patient is ``file:LINE``."""
    from ...engine.patient import batchio

    with _open(path) as stream:
        for line, data, problems in batchio.read_jsonl(stream, str(path)):
            side: Side = (data, tuple(problems))
            yield f"{path}:{line}", side, side


def read_csv(path: Path, old_kb: Any, new_kb: Any) -> Iterator[Member]:
    """A CSV batch, each row typed by each knowledge base's templates (their columns may differ).

    The rows are the same under both, but the header may name a column one
    knowledge base lacks: then that knowledge base reads only the header's
    problem, which stands for every row the other one reads.
    """
    from ...engine.common.errors import Problem
    from ...engine.patient import batchio

    with _open(path) as a, _open(path) as b:
        olds, news = batchio.read_csv(a, str(path), old_kb), batchio.read_csv(b, str(path), new_kb)
        first_old, first_new = next(olds, None), next(news, None)
        if first_old is None and first_new is None:
            return
        if first_old is not None and first_new is not None and first_old[0] == first_new[0]:
            for (line, x, px), (_, y, py) in _chain((first_old, first_new), zip(olds, news, strict=True)):
                yield f"{path}:{line}", (x, tuple(px)), (y, tuple(py))
            return
        header_fails_old = first_new is None or (first_old is not None and first_old[0] < first_new[0])
        failed, good, rows = (first_old, first_new, news) if header_fails_old else (first_new, first_old, olds)
        assert failed is not None
        bad: Side = (None, tuple(failed[2]))
        if good is None:  # only a header, which one knowledge base cannot read
            none: Side = (None, (Problem(str(path), failed[0], None, "", "the file has no rows"),))
            yield f"{path}:{failed[0]}", *((bad, none) if header_fails_old else (none, bad))
            return
        for line, data, problems in _chain(good, rows):
            side: Side = (data, tuple(problems))
            yield f"{path}:{line}", *((bad, side) if header_fails_old else (side, bad))


def _chain(first: Any, rest: Any) -> Iterator[Any]:
    yield first
    yield from rest


def read_store(path: Path, old_kb: Any, new_kb: Any) -> Iterator[Member]:
    """Every consultation recorded in a store (``--store``), in the order recorded: the patient
    input it was planned from, named ``store#ID (where it came from)``.

    The stored input is the normalised one, its defaults filled in by the
    knowledge base of the day: a case is re-run as it was recorded.
    """
    from ...store import open_store

    with open_store(path, create=False) as store:
        for entry in store.entries():
            side: Side = (entry.patient, ())
            yield f"{path}#{entry.id} ({entry.where})", side, side


READERS: dict[str, Reader] = {
    "folder": read_folder,
    "yaml": read_yaml,
    "json": read_json,
    "jsonl": read_jsonl,
    "csv": read_csv,
    "store": read_store,
}


COMMANDS = [impact]
