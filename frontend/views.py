from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def network_map(request):
    """The river network map: districts, reaches and water bodies; a tap shows who gets a clue there."""
    return render(request, "frontend/map.html")
