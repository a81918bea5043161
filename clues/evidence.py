"""Who may see a finding and its photos, who may add photos, and who may fetch the originals.

It lives in clues because a finding that became a clue is seen as the clue is (clues may use
patrols; patrols does not read clues).

A finding (and every photo of it) is seen by
- its reporter;
- the members of its agency, and those who see that agency's work through its liaison office
  (`Agency.objects.of_user`);
- the participants of the patrol it came from, and the members of their agencies (a joint patrol's
  procuratorate sees what the river office found beside it);
- once it became a clue, everyone who may see the clue (`Clue.objects.visible_to`).
A finding whose clue is confidential is seen only by those who may see the clue: to anyone else,
its reporter included, it does not exist (404), like the clue (DESIGN §5).

The originals are evidence (EXIF position and time, the untouched bytes). Of those who may see the
finding they go to its reporter and its agency's members (their own evidence), and to holders of a
role that works with evidence in any of their agencies: prosecutor, river-office staff, liaison
officer, river chief. A plain patrol member of another agency sees the display copy only (403).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from patrols.models import Finding, PatrolParticipant, Photo
from rivers.models import Agency, Membership, Role

from .models import Clue

EVIDENCE_ROLES = (Role.PROSECUTOR, Role.RIVER_OFFICE, Role.LIAISON, Role.CHIEF)


def findings_visible_to(user) -> QuerySet[Finding]:  # noqa: ANN001 - a user
    """Return the findings `user` may see; any other must answer 404."""
    # The clue's own rule decides for a finding that became a clue, which is why this lives in clues.
    if not user.is_authenticated:
        return Finding.objects.none()
    agencies = Agency.objects.of_user(user).values("pk")
    patrols = PatrolParticipant.objects.filter(Q(agency__in=agencies) | Q(user=user)).values("patrol")
    own = Q(reported_by=user) | Q(agency__in=agencies) | Q(patrol__in=patrols)
    made_clues = Clue.objects.filter(finding__isnull=False)
    confidential = made_clues.filter(confidential=True).values("finding")
    through_clue = made_clues.visible_to(user).values("finding")
    return Finding.objects.filter((own & ~Q(pk__in=confidential)) | Q(pk__in=through_clue))


def photos_visible_to(user) -> QuerySet[Photo]:  # noqa: ANN001 - a user
    """Return the photos of the findings `user` may see."""
    return Photo.objects.filter(finding__in=findings_visible_to(user).values("pk"))


def may_add_photos(user, finding: Finding) -> bool:  # noqa: ANN001 - a user
    """Say whether `user` may upload photos of `finding` (its reporter, or a member of its agency)."""
    return finding.reported_by_id == user.pk or Membership.objects.filter(user=user, agency=finding.agency_id).exists()


def may_see_originals(user, finding: Finding) -> bool:  # noqa: ANN001 - a user
    """Say whether `user`, who may see `finding`, may fetch its original photos (evidence)."""
    if finding.reported_by_id == user.pk:
        return True
    memberships = Membership.objects.filter(user=user)
    return memberships.filter(Q(agency=finding.agency_id) | Q(role__in=EVIDENCE_ROLES)).exists()
