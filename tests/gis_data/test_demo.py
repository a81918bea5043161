"""load_demo (make run): the demo's clues and plans, made by the domain functions, and made once."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from clues.history import history_verify
from clues.models import Clue, ClueEvent, Suggestion
from gis_data.demo import CLUES
from patrols.models import FocusPlan, WorkPlan

pytestmark = pytest.mark.django_db


def states() -> dict[str, tuple[str, str, bool]]:
    return {
        clue.description: (clue.status, clue.holder.code, clue.confidential)
        for clue in Clue.objects.select_related("holder")
    }


def test_the_demo_has_clues_in_the_desks_states_and_loading_again_changes_nothing():
    call_command("load_demo", verbosity=0)
    first = states()
    assert len(first) == len(CLUES)
    by_key = {demo.key: first[demo.description] for demo in CLUES}
    assert by_key["outfall"] == ("registered", "500110-RCO", False)
    assert by_key["rubbish"] == ("transferred", "500110-PROC", False)
    assert by_key["sand"][:2] == ("suggestion_issued", "500110-PROC")
    assert by_key["fishing"][:2] == ("accepted", "500000-PROC")  # the cross-district reach: the city
    assert by_key["sheds"][0] == "closed"
    assert by_key["cages"][0] == "feedback_given"
    assert by_key["mine"] == ("transferred", "500110-PROC", True)
    assert Suggestion.objects.filter(addressee__code="500110-WATER").count() == 2
    assert FocusPlan.objects.filter(district__code="500110").count() == 1
    assert WorkPlan.objects.filter(district__code="500110").count() == 1
    assert list(history_verify()) == []
    # The confidential clue is the procuratorate's and the river office's that sent it, not the liaison's.
    liaison = get_user_model().objects.get(username="qj_liaison")
    mine = Clue.objects.get(description=next(d.description for d in CLUES if d.key == "mine"))
    assert not Clue.objects.visible_to(liaison).filter(pk=mine.pk).exists()
    assert Clue.objects.visible_to(liaison).count() > 0

    events = ClueEvent.objects.count()
    call_command("load_demo", verbosity=0)
    assert states() == first
    assert ClueEvent.objects.count() == events
    assert FocusPlan.objects.count() == 1 and WorkPlan.objects.count() == 1
