import getpass

from core.audit import current_actor


def test_the_actor_is_the_os_user_and_the_ssh_client_address():
    actor = current_actor({"SSH_CLIENT": "203.0.113.9 52114 22"})
    assert actor.user == getpass.getuser()
    assert actor.client == "203.0.113.9"
    assert str(actor) == f"{getpass.getuser()}@203.0.113.9"


def test_ssh_connection_is_used_when_ssh_client_is_absent():
    assert current_actor({"SSH_CONNECTION": "2001:db8::7 50000 2001:db8::1 22"}).client == "2001:db8::7"


def test_a_local_session_has_no_client():
    actor = current_actor({})
    assert actor.client is None and str(actor) == actor.user
