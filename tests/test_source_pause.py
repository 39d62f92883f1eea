"""A feed that fails again and again is paused, shown to the delegate and resumed in one
click or one command, instead of being polled forever. Through the hostile HTTP server,
the real collection cycle, the real desk (uvicorn) and the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from tests.hostile_server import HostileServer, static
from tests.test_desk_members import doc, open_desk
from veille.cli import app
from veille.collect.httpcache import PAUSE_AFTER_FAILURES, should_pause
from veille.collect.pipeline import CollectContext, refresh_due
from veille.config import Settings
from veille.db.tables import SourceRow
from veille.sources import load_feeds_config

GARBAGE = b"\x00\x01<<<ceci n'est pas un flux>>>" * 40


def test_pause_decision_is_after_ten_failures_in_a_row() -> None:
    assert PAUSE_AFTER_FAILURES == 10
    assert [should_pause(n) for n in (0, 1, 9)] == [False, False, False]
    assert should_pause(10) and should_pause(11)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_a_feed_failing_ten_times_is_paused_skipped_then_resumed(settings: Settings) -> None:
    runner = CliRunner()
    with HostileServer() as server:
        server.route("/casse.xml", static(GARBAGE, content_type="application/rss+xml"))
        settings.config_file.write_text(
            "themes:\n  - id: open_data\n    label: Open data\nsources:\n"
            f'  - {{key: sain, name: Flux sain, url: "{server.url("/ok.xml")}"}}\n'
            f'  - {{key: casse, name: Flux cassé, url: "{server.url("/casse.xml")}"}}\n',
            encoding="utf-8",
        )
        env = {
            "VEILLE_DATABASE_URL": settings.database_url,
            "VEILLE_CONFIG_FILE": str(settings.config_file),
        }
        with open_desk(settings) as desk:
            clock = Clock(datetime.now(UTC))
            ctx = CollectContext(
                settings=desk.site.settings,
                sessions=desk.site.sessions,
                config=load_feeds_config(settings.config_file),
                clock=clock,
            )

            def cycle() -> dict[str, str]:
                clock.now += timedelta(hours=25)  # past any backoff: everything unpaused is due
                return {r.key: r.status for r in refresh_due(ctx).sources}

            for _ in range(PAUSE_AFTER_FAILURES):
                assert cycle()["casse"] == "failed"
            assert server.hits["/casse.xml"] == PAUSE_AFTER_FAILURES
            with desk.site.sessions() as session:
                row = session.scalar(select(SourceRow).where(SourceRow.key == "casse"))
                assert row is not None and row.paused_at == clock.now
                assert row.consecutive_failures == PAUSE_AFTER_FAILURES

            # Cycle 11: skipped, the healthy source still read.
            eleventh = cycle()
            assert "casse" not in eleventh and "sain" in eleventh
            assert server.hits["/casse.xml"] == PAUSE_AFTER_FAILURES

            listed = runner.invoke(app, ["sources", "list"], env=env)
            assert listed.exit_code == 0, listed.output
            line = next(x for x in listed.output.splitlines() if "casse" in x)
            assert "en pause" in line
            as_json = json.loads(runner.invoke(app, ["sources", "list", "--json"], env=env).output)
            assert {s["key"]: s["paused_at"] is not None for s in as_json} == {
                "casse": True,
                "sain": False,
            }

            home = desk.client.get("/desk")
            banner = doc(home).cssselect("#sources-en-pause")
            assert banner and "Flux cassé" in banner[0].text_content()
            assert "1 source en pause" in banner[0].text_content()
            refused = desk.client.post("/desk/sources/casse/reprendre", data={"csrf": "faux"})
            assert refused.status_code == 403
            token = doc(home).xpath('//section[@id="sources-en-pause"]//input[@name="csrf"]/@value')
            resumed = desk.client.post("/desk/sources/casse/reprendre", data={"csrf": token[0]})
            assert resumed.status_code == 303
            after = desk.client.get(resumed.headers["location"])
            assert not doc(after).cssselect("#sources-en-pause")
            assert "Source « casse » reprise" in after.text

            # Resumed: due now with a clean count, fetched again on the next cycle.
            assert cycle()["casse"] == "failed"
            assert server.hits["/casse.xml"] == PAUSE_AFTER_FAILURES + 1
            for _ in range(PAUSE_AFTER_FAILURES - 1):
                cycle()
            assert "casse" not in cycle()  # paused again after ten more failures

            unknown = runner.invoke(app, ["sources", "resume", "inconnue"], env=env)
            assert unknown.exit_code == 1 and "aucune source « inconnue »" in unknown.output
            by_cli = runner.invoke(app, ["sources", "resume", "casse"], env=env)
            assert by_cli.exit_code == 0 and "reprise" in by_cli.output
            hits = server.hits["/casse.xml"]
            assert cycle()["casse"] == "failed"
            assert server.hits["/casse.xml"] == hits + 1
