from tests.helpers import auth_headers


async def test_register_login_me(client):
    user, headers = await auth_headers(client)
    r = await client.get("/auth/me", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == user["email"]
