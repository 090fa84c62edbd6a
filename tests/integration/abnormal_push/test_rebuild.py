"""The projections are rebuilt from the topics: wipe them, rewind the worker, get them back."""

from __future__ import annotations

import uuid

import httpx
import pytest

from services.abnormal_push.rebuild import rebuild
from services.platform_core.kafka.log_replay import GroupStillConsuming
from services.platform_core.settings import PlatformSettings
from tests.conftest import WORKER_READY
from tests.integration.abnormal_push.fixtures import Keys, auth, report_body, wait_for_pushes
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


async def test_a_push_and_a_webhook_registration_come_back_unchanged_after_a_rebuild(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, settings: PlatformSettings
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        filed = await client.post(
            f"{push_api.base_url}/v1/reports",
            json=report_body("GOVERNMENT_PROCUREMENT"),
            headers=auth(keys["JYZX"], str(uuid.uuid4())),
        )
        (push,) = await wait_for_pushes(client, push_api, keys["CZJ"], filed.json()["report_id"])
        url = f"{push_api.base_url}/v1/pushes/{push['push_id']}"
        signed = await client.post(f"{url}/sign-for", headers=auth(keys["CZJ"], str(uuid.uuid4())))
        assert signed.status_code == 202
        before = await eventually(
            lambda: client.get(url, headers=auth(keys["CZJ"])),
            lambda r: r.json()["status"] == "SIGNED_FOR",
        )
        hook_url = f"{push_api.base_url}/v1/webhooks"
        registered = await client.post(
            hook_url,
            json={"url": "http://127.0.0.1:9/czj"},
            headers=auth(keys["CZJ"], str(uuid.uuid4())),
        )
        assert registered.status_code == 201, registered.text
        hook_before = await eventually(
            lambda: client.get(hook_url, headers=auth(keys["CZJ"])),
            lambda r: (
                r.status_code == 200 and r.json()["webhook_id"] == registered.json()["webhook_id"]
            ),
        )

        # While the worker runs, the rewind is refused before anything is deleted.
        with pytest.raises(GroupStillConsuming, match="stop its workers first"):
            await rebuild(settings)
        assert (await client.get(url, headers=auth(keys["CZJ"]))).json() == before.json()

        push_worker.stop()
        await rebuild(settings)
        gone = await client.get(url, headers=auth(keys["CZJ"]))
        assert gone.status_code == 404
        hook_gone = await client.get(hook_url, headers=auth(keys["CZJ"]))
        assert hook_gone.status_code == 404

        push_worker.start()
        push_worker.wait_for_log(WORKER_READY, timeout_s=90)
        # The push and its report are separate projections: wait until both are back.
        after = await eventually(
            lambda: client.get(url, headers=auth(keys["CZJ"])),
            lambda r: r.status_code == 200 and r.json() == before.json(),
            timeout_s=90,
        )
        hook_after = await eventually(
            lambda: client.get(hook_url, headers=auth(keys["CZJ"])),
            lambda r: r.status_code == 200,
        )
    assert after.json() == before.json()
    assert hook_after.json() == hook_before.json()
