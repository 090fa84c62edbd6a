"""Every Kafka client the services make carries the settings' credentials: an aiokafka client
built without ``security_options`` connects in PLAINTEXT and cannot reach a secured broker
(the rebuild and recompute commands once did, and worked only on the open local broker)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CLIENTS = {"AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient"}


def _client_calls_without_credentials() -> list[str]:
    found: list[str] = []
    for path in sorted((REPO / "services").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            # The credentials come in as **security_options(settings), directly or through a
            # dict of options built in the same function.
            uses_credentials = any(
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "security_options"
                for node in ast.walk(function)
            )
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in CLIENTS
                    and not (uses_credentials and any(k.arg is None for k in node.keywords))
                ):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.func.id}")
    return found


def test_every_kafka_client_of_the_services_is_given_the_credentials() -> None:
    assert _client_calls_without_credentials() == []
