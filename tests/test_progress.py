"""The progress of long commands: a bar redrawn in place on a terminal, a line now and then elsewhere."""

import io

from orchestration.progress import Progress, dbt_counts, dbt_nodes_as_note


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_a_line_every_ten_seconds_then_the_total():
    out, clock = io.StringIO(), Clock()
    progress = Progress("land_all", total=4, stream=out, clock=clock)
    progress.update(advance=1, note="raw__orders success")  # 0 s: nothing yet
    clock.now += 10
    progress.update(advance=1, note="raw__events success")
    clock.now += 5
    progress.update(advance=1)  # 5 s after the last line: nothing
    clock.now += 7
    progress.update(advance=5)  # capped at the total
    progress.close()
    assert out.getvalue().splitlines() == [
        "land_all: 2/4 steps (50%), 10 s  raw__events success",
        "land_all: 4/4 steps (100%), 22 s  raw__events success",
        "land_all: 4/4 steps in 22.0 s",
    ]


def test_on_a_terminal_one_bar_redrawn_in_place():
    out, clock = Terminal(), Clock()
    progress = Progress("generate", total=4, stream=out, clock=clock)
    progress.update(advance=1, note="store us simulated")
    clock.now += 1.5
    progress.update(advance=2)
    progress.close()
    redraws = out.getvalue().split("\r\033[K")
    assert redraws == [
        "",
        "generate [########----------------------] 1/4 steps (25%)  store us simulated",
        "generate [######################--------] 3/4 steps (75%)  store us simulated",
        "generate: 3/4 steps in 1.5 s\n",
    ]


def test_a_command_that_fails_before_it_knows_its_work_shows_no_progress():
    out = io.StringIO()
    Progress("erase", total=0, stream=out).close()
    assert out.getvalue() == ""


def test_dbt_results_give_the_node_count_and_starts_do_not():
    assert dbt_counts("05:37:20  12 of 617 OK created sql table model marts.dim_dates ... [OK in 0.5s]") == (12, 617)
    assert dbt_counts("13 of 617 PASS not_null_fct_orders ... [PASS in 0.2s]") == (13, 617)
    assert dbt_counts("14 of 617 ERROR creating sql view model main.stg_oms__orders") == (14, 617)
    assert dbt_counts("15 of 617 START sql view model main.stg_oms__stores ... [RUN]") is None
    assert dbt_counts("Found 79 models, 505 data tests") is None
    out, clock = io.StringIO(), Clock()
    progress = Progress("build_all", total=23, stream=out, clock=clock, every=0)
    on_line = dbt_nodes_as_note(progress)
    on_line("1 of 617 START sql table model marts.dim_dates")
    on_line("1 of 617 OK created sql table model marts.dim_dates")
    assert out.getvalue() == "build_all: 0/23 steps (0%), 0 s  dbt 1/617 nodes\n"
