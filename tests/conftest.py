import pytest
from rest_framework.test import APIClient

from rivers.members import member_add
from rivers.models import Agency
from tests import factories


@pytest.fixture
def world(db):
    """Two districts side by side in a test city (see tests.factories.two_district_world)."""
    return factories.two_district_world()


@pytest.fixture
def member(db):
    """Return a function that makes a user with a role in an agency (by agency code)."""

    def make(username: str, agency_code: str, role: str = "prosecutor"):
        membership, _ = member_add(username=username, agency=Agency.objects.get(code=agency_code), role=role)
        return membership.user

    return make


@pytest.fixture
def api(world, member):
    """An API client signed in as a prosecutor of 甲区."""
    client = APIClient()
    client.force_authenticate(member("prosecutor-west", "990001-PROC"))
    return client
