"""The interactive consultation: scripted input through click's CliRunner, and
end to end in a real terminal (tmux) when tmux is installed."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cicatrix.cli import cli
from cicatrix.commands import dialogue

# A simple case: one group of rolling scars, a 30-year-old man. 20 questions.
SIMPLE = [
    "rolling",  # type
    "cheeks",  # site
    "6",  # count
    "",  # depth
    "",  # distensible: unsure
    "n",  # add another group?
    "male",  # sex
    "30",  # age
    "3",  # fitzpatrick
    "n",  # active acne
    "",  # isotretinoin
    "",  # marks
    "",  # skin sensitivity
    "",  # conditions
    "n",  # active infection
    "n",  # anticoagulants
    "",  # sun exposure
    "",  # recent tan
    "5",  # downtime days
    "",  # budget
]
SEX, FITZPATRICK, ACNE, ANTICOAGULANTS = 6, 8, 9, 15  # where these answers are in SIMPLE


def converse(tmp_path, answers, *extra, env=None):
    save = tmp_path / "me.yaml"
    out = tmp_path / "plan.txt"
    result = CliRunner().invoke(
        cli,
        ["consult", "--interactive", "--save", str(save), "-o", str(out), *extra],
        input="\n".join(answers) + "\n",
        env=env,
    )
    return result, save, out


def prompts(output: str) -> int:
    return output.count("]: ")


def flat(output: str) -> str:
    """The output with its lines joined: help and messages are wrapped to the terminal."""
    return " ".join(output.split())


def test_happy_path_saves_a_patient_file_that_gives_the_same_plan(tmp_path):
    result, save, out = converse(tmp_path, SIMPLE)
    assert result.exit_code == 0, result.output
    assert prompts(result.output) == len(SIMPLE) == 20
    saved = yaml.safe_load(save.read_text())
    assert saved["scars"] == [
        {
            "type": "rolling",
            "site": "cheeks",
            "count": 6,
            "depth": None,
            "width_mm": None,
            "distensible": None,
            "floor": None,
        }
    ]
    assert saved["patient"]["sex"] == "male" and saved["patient"]["age"] == 30
    assert saved["patient"]["fitzpatrick"] == 3 and saved["patient"]["downtime_days"] == 5
    again = tmp_path / "again.txt"
    rerun = CliRunner().invoke(cli, ["consult", str(save), "-o", str(again)])
    assert rerun.exit_code == 0, rerun.output
    assert again.read_text() == out.read_text()
    assert "Decision support, not a diagnosis" in out.read_text()


def test_bad_answer_is_asked_again(tmp_path):
    answers = ["icepick", *SIMPLE]
    answers[1] = "ice_pick"
    result, save, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "'icepick' is not one of" in flat(result.output) and "did you mean 'ice_pick'" in flat(result.output)
    assert yaml.safe_load(save.read_text())["scars"][0]["type"] == "ice_pick"


def test_number_out_of_range_is_asked_again(tmp_path):
    answers = list(SIMPLE)
    answers[FITZPATRICK : FITZPATRICK + 1] = ["9", "3"]  # Fitzpatrick 9, then 3
    result, _save, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "expected an integer from 1 to 6" in result.output


def test_why_says_what_the_answer_decides_in_plain_words(tmp_path):
    answers = list(SIMPLE)
    answers[FITZPATRICK:FITZPATRICK] = ["why"]  # at the Fitzpatrick question
    result, _, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "This answer decides:" in result.output
    assert "Skin types IV-VI carry a higher risk of marks after treatment" in flat(result.output)
    assert "risk/pigment" not in result.output  # rule ids only on request
    assert "why ids" in result.output
    assert prompts(result.output) == len(answers)


def test_why_ids_shows_the_rules_that_use_the_answer(tmp_path):
    answers = list(SIMPLE)
    answers[FITZPATRICK:FITZPATRICK] = ["why ids"]  # at the Fitzpatrick question
    result, _, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "This answer (patient.fitzpatrick) is used by" in result.output
    assert "risk/pigment" in result.output
    assert "This answer decides:" not in result.output


def test_help_explains_the_question(tmp_path):
    answers = ["?", *SIMPLE]
    result, _, _ = converse(tmp_path, answers)
    assert result.exit_code == 0
    assert "ice_pick: narrow (under 2 mm)" in flat(result.output)
    assert "Answers: ice_pick, boxcar" in flat(result.output)


def test_back_changes_the_previous_answer(tmp_path):
    answers = ["rolling", "forehead", "back", "cheeks", *SIMPLE[2:]]
    result, save, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "Back to the previous question." in result.output
    assert yaml.safe_load(save.read_text())["scars"][0]["site"] == "cheeks"


def test_questions_whose_condition_is_false_are_skipped(tmp_path):
    result, _, _ = converse(tmp_path, SIMPLE)
    assert "Are you pregnant?" not in result.output  # male
    assert "keloids" not in result.output  # facial scars, skin type 3
    assert "How severe is your acne" not in result.output  # no active acne
    answers = list(SIMPLE)
    answers[SEX] = "female"
    answers[FITZPATRICK:FITZPATRICK] = ["n", "n", "n"]  # pregnant? breastfeeding? trying to conceive?
    result, save, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "Are you pregnant?" in result.output and "Are you breastfeeding?" in result.output
    assert "trying to become pregnant" in result.output
    assert yaml.safe_load(save.read_text())["patient"]["pregnant"] is False


def test_a_second_scar_group_and_a_conditional_question(tmp_path):
    you = SIMPLE[SEX:]
    you[ANTICOAGULANTS - SEX : ANTICOAGULANTS - SEX] = ["n", "y"]  # keloids? in the family? (back, raised scars)
    answers = ["hypertrophic", "back", "4", "y", "boxcar", "cheeks", "3", "deep", "y", "n", *you]
    result, save, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert prompts(result.output) == len(answers)
    assert "Scar group 2:" in result.output and "Have you ever had keloids" in result.output
    assert "Does a parent, brother, sister or other blood relative have keloids?" in result.output
    # the stretch test is asked for the boxcar scars only, not for the raised ones
    assert result.output.count("Do the dents flatten when you stretch the skin around them?") == 1
    saved = yaml.safe_load(save.read_text())
    scars = saved["scars"]
    assert [s["type"] for s in scars] == ["hypertrophic", "boxcar"]
    assert scars[0]["depth"] is None and scars[0]["distensible"] is None  # not asked for raised scars
    assert scars[1]["depth"] == "deep" and scars[1]["distensible"] is True
    assert saved["patient"]["keloid_history"] is False and saved["patient"]["family_keloid_history"] is True


def test_the_stretch_test_is_explained_and_unsure_leaves_it_unknown(tmp_path):
    answers = ["rolling", "cheeks", "6", "", "?", "", "y", "keloid", "jaw", "2", "n", *SIMPLE[SEX:]]
    answers[-(len(SIMPLE) - ANTICOAGULANTS) : -(len(SIMPLE) - ANTICOAGULANTS)] = ["n", "n"]  # keloid questions
    result, save, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    shown = flat(result.output)
    assert "gently stretch the skin around a scar between two fingers" in shown  # the help, after ?
    assert "If the dent flattens or fades, answer yes" in shown
    assert "Press Enter if unsure" in result.output
    assert result.output.count("Do the dents flatten") == 2  # asked, help, asked again; not for the keloids
    scars = yaml.safe_load(save.read_text())["scars"]
    assert [(s["type"], s["distensible"]) for s in scars] == [("rolling", None), ("keloid", None)]


def test_blood_thinners_are_asked_at_25(tmp_path):
    answers = list(SIMPLE)
    answers[SEX + 1] = "25"
    answers[ANTICOAGULANTS] = "y"
    result, save, out = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "Do you take a blood thinner" in result.output
    assert "Do you have a cold sore or another skin infection right now?" in result.output  # no conditions given
    patient = yaml.safe_load(save.read_text())["patient"]
    assert patient["age"] == 25 and patient["anticoagulants"] is True
    assert "anticoagulant" in out.read_text().lower()  # the plan takes it into account


def test_active_acne_asks_how_severe(tmp_path):
    answers = list(SIMPLE)
    answers[ACNE : ACNE + 1] = ["y", "?", "nodular or scarring"]  # by its label
    result, save, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "How severe is your acne now? [mild, moderate, nodular]" in result.output
    assert "nodular: deep, painful lumps or acne that leaves scars" in flat(result.output)
    patient = yaml.safe_load(save.read_text())["patient"]
    assert patient["active_acne"] is True and patient["acne_severity"] == "nodular"


def test_marks_sun_and_a_tan_are_asked(tmp_path):
    answers = list(SIMPLE)
    answers[ANTICOAGULANTS + 1 : ANTICOAGULANTS + 3] = ["high", "y"]  # sun exposure, recent tan
    answers[ACNE + 2] = "red, brown"  # marks
    result, save, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "flat red or brown marks" in result.output and "How much sun do you get?" in result.output
    patient = yaml.safe_load(save.read_text())["patient"]
    assert patient["marks"] == ["red", "brown"]
    assert patient["sun_exposure"] == "high" and patient["recent_tan"] is True


def test_the_interview_talks_on_stderr_and_stdout_holds_only_the_plan(tmp_path):
    save = tmp_path / "me.yaml"
    result = CliRunner().invoke(
        cli,
        ["consult", "--interactive", "--format", "json", "--save", str(save), *[]],
        input="\n".join(["?", "why", *SIMPLE]) + "\n",
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)  # the plan, and nothing else
    assert plan["patient"]["patient"]["age"] == 30
    assert "What type of scar" not in result.stdout and "decision support, not a diagnosis" not in result.stdout
    assert "What type of scar" in result.stderr and "This answer decides:" in result.stderr
    assert "Answers: ice_pick, boxcar" in flat(result.stderr)
    assert prompts(result.stderr) == len(SIMPLE) + 2


def test_a_real_pipe_gets_the_plan_alone_on_stdout(tmp_path):
    exe = Path(sys.executable).with_name("cicatrix")
    run = subprocess.run(
        [str(exe), "consult", "--interactive", "--format", "json"],
        input="\n".join(SIMPLE) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["patient"]["scars"][0]["type"] == "rolling"
    # the answers read from the pipe are echoed after their prompts, so stderr reads as a dialogue
    assert (
        "What type of scar is this group? [ice_pick, boxcar, rolling, hypertrophic, keloid, atrophic]: rolling\n"
        in (run.stderr)
    )


def test_the_default_is_shown_once(tmp_path):
    result, _, _ = converse(tmp_path, SIMPLE)
    assert result.exit_code == 0, result.output
    assert "Add another group of scars (another type or area)? [y/N]: " in result.output
    assert "Do you have active breakouts now? [y/N]: " in result.output
    assert "How old are you? [unknown]: " in result.output
    assert "How sensitive is your skin? [normal, sensitive, very_sensitive] [normal]: " in result.output
    for line in result.output.splitlines():
        brackets = [part.split("]")[0] for part in line.split("[")[1:]]
        assert len(brackets) == len(set(brackets)), line
        assert "[y/N] [no]" not in line and "[y/n] [no]" not in line, line


def test_back_to_add_another_offers_the_earlier_yes(tmp_path):
    answers = ["rolling", "cheeks", "6", "", "", "y", "back", "", "boxcar", "cheeks", "3", "", "", "n", *SIMPLE[SEX:]]
    result, save, _ = converse(tmp_path, answers)
    assert result.exit_code == 0, result.output
    assert "Add another group of scars (another type or area)? [Y/n]: " in result.output
    assert [s["type"] for s in yaml.safe_load(save.read_text())["scars"]] == ["rolling", "boxcar"]


def test_help_is_wrapped_to_the_terminal_width(tmp_path):
    answers = ["?", *SIMPLE]
    answers[5:5] = ["?"]  # the stretch test's long help
    result, _, _ = converse(tmp_path, answers, env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    help_lines = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(help_lines) > 6
    assert all(len(line) <= 60 for line in help_lines), help_lines
    assert "gently stretch the skin around a scar between two fingers" in flat(result.stderr)
    wide, _, _ = converse(tmp_path, answers, env={"COLUMNS": "300"})
    assert max(len(line) for line in wide.stderr.splitlines() if line.startswith("  ")) <= dialogue.MAX_WIDTH


def test_width_follows_columns_and_is_capped(monkeypatch):
    monkeypatch.setenv("COLUMNS", "72")
    assert dialogue.width() == 72
    monkeypatch.setenv("COLUMNS", "500")
    assert dialogue.width() == dialogue.MAX_WIDTH


def test_quit_leaves_without_saving(tmp_path):
    result, save, out = converse(tmp_path, ["rolling", "quit"])
    assert result.exit_code == 1
    assert "Stopped; nothing was saved." in result.output
    assert not save.exists() and not out.exists()
    assert "Traceback" not in result.output


def test_end_of_input_leaves_without_saving(tmp_path):
    result, save, _ = converse(tmp_path, ["rolling", "cheeks"])
    assert result.exit_code == 1
    assert not save.exists()


def test_no_file_and_no_terminal_exits_2(run_cli, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    run = run_cli("consult")
    assert run.code == 2
    assert "pass a patient file" in run.err


# --- end to end in a real terminal: tmux runs `cicatrix consult --save`, keys are
# sent, the screen is read, and the saved file gives the same plan.

TMUX = shutil.which("tmux")

# (text that must be on screen before answering, keys to send)
DIALOGUE = [
    ("What type of scar", "ice_pick"),
    ("Where are they?", "cheeks"),
    ("how many scars", "3"),
    ("How deep", "deep"),
    ("Add another group", "y"),
    ("Scar group 2", "rolling"),
    ("Where are they?", "cheeks"),
    ("how many scars", "8"),
    ("How deep", ""),
    ("flatten when you stretch", ""),
    ("Add another group", "n"),
    ("Sex", "male"),
    ("How old", "why"),
    ("This answer decides", "why ids"),
    ("is used by", "34"),
    ("Fitzpatrick", "2"),
    ("active breakouts", "n"),
    ("isotretinoin", ""),
    ("flat red or brown marks", ""),
    ("How sensitive", ""),
    ("Any of these", ""),
    ("skin infection right now", ""),
    ("blood thinner", "n"),
    ("How much sun", ""),
    ("recently tanned", ""),
    ("How many days", "10"),
    ("budget", "high"),
]


def screen(session: str) -> str:
    return subprocess.run(
        [TMUX, "capture-pane", "-p", "-t", session, "-S", "-200"], capture_output=True, text=True
    ).stdout


def wait_for(session: str, text: str, seen_before: int, timeout: float = 20.0) -> int:
    """Wait until ``text`` appears after the first ``seen_before`` occurrences; return the new count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = screen(session).count(text)
        if count > seen_before:
            return count
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {text!r}; screen:\n{screen(session)}")


def converse_in_tmux(command: str, dialogue_keys) -> str:
    """Run ``command`` in a new tmux session, answer it, and return the final screen."""
    session = f"cx-{uuid.uuid4().hex[:8]}"
    shell = f"{command}; echo EXIT=$?; sleep 30"
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", "160", "-y", "50", shell], check=True)
    try:
        counts: dict[str, int] = {}
        for expected, keys in dialogue_keys:
            counts[expected] = wait_for(session, expected, counts.get(expected, 0))
            keys = keys if isinstance(keys, list) else [keys]
            for key in keys:  # literal text, or a key name such as Left
                literal = ["-l"] if key not in ("Left", "Right", "Up", "Down", "BSpace", "Home", "End") else []
                subprocess.run([TMUX, "send-keys", "-t", session, *literal, key], check=True)
            subprocess.run([TMUX, "send-keys", "-t", session, "Enter"], check=True)
        wait_for(session, "EXIT=", 0)
        return screen(session)
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], check=False)


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it with apt-get)")
def test_interactive_consultation_in_tmux(tmp_path):
    exe = Path(sys.executable).with_name("cicatrix")
    assert exe.exists(), exe
    save, plan = tmp_path / "me.yaml", tmp_path / "plan.txt"
    final = converse_in_tmux(f"{exe} consult --save {save} -o {plan}", DIALOGUE)
    assert "EXIT=0" in final, final
    assert "Saved your answers" in final
    assert "This answer decides:" in final  # the answer to `why`
    assert "This answer (patient.age) is used by" in final  # the answer to `why ids`
    rerun = tmp_path / "rerun.txt"
    subprocess.run([str(exe), "consult", str(save), "-o", str(rerun)], check=True)
    assert plan.read_text() == rerun.read_text()
    assert "TCA CROSS" in plan.read_text()


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it with apt-get)")
def test_json_to_a_file_in_tmux_shows_the_questions_and_the_arrow_keys_edit(tmp_path):
    """`consult --format json > plan.json`: the questions on the screen, the plan alone in the file."""
    exe = Path(sys.executable).with_name("cicatrix")
    plan = tmp_path / "plan.json"
    keys = list(DIALOGUE)
    keys[0] = ("What type of scar", ["ice_pik", "Left", "c"])  # readline: Left moves back, c is inserted
    keys[1] = ("Where are they?", ["cheeks", "Left", "Left", "Left", "BSpace", "e"])  # "cheeks" again
    final = converse_in_tmux(f"{exe} consult --format json > {plan}", keys)
    assert "EXIT=0" in final, final
    assert "What type of scar" in final and "This answer decides:" in final
    assert "[D" not in final and "^[" not in final  # no raw escape sequences in the answers
    data = json.loads(plan.read_text())
    scars = data["patient"]["scars"]
    assert [(s["type"], s["site"]) for s in scars] == [("ice_pick", "cheeks"), ("rolling", "cheeks")]
    assert "What type of scar" not in plan.read_text()


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it with apt-get)")
def test_with_stdout_and_stderr_redirected_the_questions_go_to_the_terminal(tmp_path):
    """`consult --format json > plan.json 2> log.txt`: the person still sees the questions (on /dev/tty)."""
    exe = Path(sys.executable).with_name("cicatrix")
    plan, log = tmp_path / "plan.json", tmp_path / "log.txt"
    keys = list(DIALOGUE)
    keys[0] = ("What type of scar", ["ice_pik", "Left", "c"])  # readline edits on the terminal too
    saved = tmp_path / "me.yaml"
    final = converse_in_tmux(f"{exe} consult --format json --save {saved} > {plan} 2> {log}", keys)
    assert "EXIT=0" in final, final
    assert f"Saved your answers to {saved}." in final and "Saved" not in log.read_text()  # last words too
    assert "What type of scar" in final and "This answer decides:" in final
    assert "This answer (patient.age) is used by" in final
    data = json.loads(plan.read_text())  # the plan alone
    assert [s["type"] for s in data["patient"]["scars"]] == ["ice_pick", "rolling"]
    assert "What type of scar" not in log.read_text() and "What type of scar" not in plan.read_text()


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty

    def close(self):
        self.text = self.getvalue()  # what was written, still readable once closed
        super().close()


def test_a_redirected_stderr_with_a_person_at_the_terminal_talks_on_the_terminal(monkeypatch):
    terminal, stderr = _Stream(True), _Stream(False)
    monkeypatch.setattr(sys, "stdin", _Stream(True))
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(dialogue, "_open_terminal", lambda: terminal)
    with dialogue.talking() as screen:
        assert screen is terminal
        dialogue.say("a question")
        with dialogue.talking() as inner:  # nested: the same terminal, still open afterwards
            assert inner is terminal
        dialogue.say("and another")
    assert terminal.text == "a question\nand another\n" and stderr.getvalue() == ""
    assert terminal.closed and dialogue.screen() is stderr


@pytest.mark.parametrize(
    ("stdin_tty", "stderr_tty"),
    [(False, False), (True, True), (False, True)],
    ids=["answers-from-a-pipe", "all-on-a-terminal", "stdin-piped"],
)
def test_otherwise_the_interview_talks_on_stderr(monkeypatch, stdin_tty, stderr_tty):
    stderr = _Stream(stderr_tty)
    monkeypatch.setattr(sys, "stdin", _Stream(stdin_tty))
    monkeypatch.setattr(sys, "stderr", stderr)
    opened = []
    monkeypatch.setattr(dialogue, "_open_terminal", lambda: opened.append(1))
    with dialogue.talking() as screen:
        dialogue.say("a question")
    assert screen is stderr and stderr.getvalue() == "a question\n" and opened == []


def test_without_a_controlling_terminal_it_falls_back_to_stderr(monkeypatch):
    def no_terminal(*args, **kwargs):
        raise OSError(6, "No such device or address", "/dev/tty")

    stderr = _Stream(False)
    monkeypatch.setattr(sys, "stdin", _Stream(True))
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(dialogue, "open", no_terminal, raising=False)
    with dialogue.talking() as screen:
        dialogue.say("a question")
    assert screen is stderr and stderr.getvalue() == "a question\n"
    # a /dev/tty that opens but is no terminal is closed and not used
    not_a_terminal = _Stream(False)
    monkeypatch.setattr(dialogue, "open", lambda *a, **k: not_a_terminal, raising=False)
    assert dialogue._open_terminal() is None and not_a_terminal.closed
