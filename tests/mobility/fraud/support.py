"""Reading the anti-fraud tables the way ops would."""

from __future__ import annotations

from sqlalchemy import text


async def rows(app, sql: str, **params) -> list:
    async with app.state.db.sessionmaker() as session:
        return list(await session.execute(text(sql), params))


async def flags_of(client, admin_headers: dict, user_id: str, **query) -> list[dict]:
    answer = await client.get("/admin/fraud/flags", params={"limit": 100, **query}, headers=admin_headers)
    assert answer.status_code == 200, answer.text
    return [f for f in answer.json()["data"] if f["subjectUserId"] == user_id]
