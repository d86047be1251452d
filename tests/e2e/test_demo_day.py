"""A simulated day at the counter reaches the server whole: every request, its one-stop facts
and handling time, every rating — and the KPI report equals an independent count."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient.demo import DemoWorld
from hallclient.demoday import simulate_day
from hallclient.store.models import FeedbackRow, OutboxRow
from hallserver.models import OperationRow
from hallserver.seed import DEMO_SUPERVISOR_PASSWORD


def test_a_day_of_customers_lands_on_the_server_and_the_report_counts_it(server, tmp_path):
    world = DemoWorld(tmp_path, server, server.engine, [], "en")
    terminals = [world.terminal("T01", "gz-th-01-c1"), world.terminal("T02", "gz-th-01-c2")]
    supervisor = world.terminal("T03", "gz-th-01-s1", "demo-super")
    try:
        recorded = simulate_day(terminals, 40, seed=3,
                                supervisor=("gz-th-01-s1", DEMO_SUPERVISOR_PASSWORD))
        assert recorded >= 30  # a few requests are refused at the counter, as in life
        local_ops, local_ratings = 0, 0
        for t in terminals:
            with t.cache.read() as s:
                assert s.scalar(select(func.count()).select_from(OutboxRow).where(
                    OutboxRow.state == "pending")) == 0
                assert s.scalar(select(func.count()).select_from(FeedbackRow).where(
                    FeedbackRow.state == "pending")) == 0
                local_ops += s.scalar(select(func.count()).select_from(OutboxRow))
                local_ratings += s.scalar(select(func.count()).select_from(FeedbackRow))
        assert local_ops == recorded
        now = datetime.now(UTC)
        report = supervisor.engine.credentials.call(lambda: supervisor.api.kpi_report(
            now - timedelta(days=1), now + timedelta(minutes=1), "business_type"))
        with Session(server.engine) as s:
            ops = s.scalars(select(OperationRow)).all()
        assert report.total.operations == len(ops) == recorded
        assert report.total.rated == local_ratings
        settled = [o for o in ops if o.first_contact and o.outcome in ("applied", "duplicate")]
        recorded_fc = [o for o in ops if o.first_contact is not None]
        assert report.total.first_contact_recorded == len(recorded_fc)
        assert report.total.first_contact == len(settled)
        handling = [o.handling_seconds for o in ops if o.handling_seconds is not None]
        assert report.total.avg_handling_seconds == sum(handling) / len(handling)
        assert sum(r.operations for r in report.rows) == report.total.operations
    finally:
        for t in [*terminals, supervisor]:
            t.close()
