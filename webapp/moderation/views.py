"""The review queue, decisions (htmx, no page reload), the audit log and its CSV export, the
moderator-only clip player, and the throttled login. Every view here checks the moderator
permission (403 otherwise); every state change is a POST under Django's CSRF middleware."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from webapp.arena.models import Battle
from webapp.arena.services import battles
from webapp.arena.services.battles import BattleTokenError
from webapp.arena.services.voters import current_voter, visitor_key
from webapp.core.file_responses import serve_stored_file
from webapp.studio.models import Clip, Prompt

from . import audit, login_throttle, review_queue
from .decisions import DecisionError, decide
from .models import AuditEntry
from .permissions import moderator_required
from .services import ReportError, report

PRESET_REASONS = [
    "Fine as it is",
    "Depicts a real person",
    "Sexual content",
    "Graphic violence",
    "Hateful content",
    "Misleading / fake news",
    "Reveals the model",
    "Broken clip",
    "Report was mistaken",
]
AUDIT_PAGE_SIZE = 50


def _queue_context(message: str = "", errors=None) -> dict:
    return {
        "items": review_queue.items(),
        "hidden": review_queue.hidden_clips(),
        "message": message,
        "errors": errors or [],
        "preset_reasons": PRESET_REASONS,
    }


@require_GET
@moderator_required
def queue_page(request):
    return render(request, "moderation/queue.html", _queue_context())


@require_POST
@moderator_required
def decide_view(request):
    kind, action = request.POST.get("kind", ""), request.POST.get("action", "")
    ids = [i for i in request.POST.getlist("ids") if i]
    try:
        done, errors = decide(kind, action, ids, actor=request.user, reason=request.POST.get("reason", ""))
    except DecisionError as exc:
        response = render(request, "moderation/_message.html", {"message": exc.message, "error": True}, status=400)
        response["HX-Retarget"] = "#decision-message"
        response["HX-Reswap"] = "innerHTML"
        return response
    verb = {"approve": "approved", "reject": "rejected", "hide": "hidden", "restore": "restored"}[action]
    message = f"{len(done)} {kind}{'s' if len(done) != 1 else ''} {verb}."
    if not request.htmx:
        return redirect("moderation:queue")
    return render(request, "moderation/_queue.html", _queue_context(message, errors))


@require_http_methods(["GET", "HEAD"])
@moderator_required
def clip_media(request, public_id: str):
    """Moderators play any clip inline, hidden ones included (the public media view refuses those)."""
    clip = Clip.objects.filter(public_id=public_id).first()
    if clip is None or not clip.web.name:
        raise Http404("no such clip")
    return serve_stored_file(request, clip.web.name, cache_control="private, no-store")


@require_GET
@moderator_required
def audit_page(request):
    entries = audit.filtered(request.GET)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "moderation/audit.html",
        {
            "page": page,
            "actions": AuditEntry.Action.choices,
            "kinds": AuditEntry.TargetKind.choices,
            "filters": request.GET,
            "query": query.urlencode(),
        },
    )


@require_GET
@moderator_required
def audit_csv(request):
    response = StreamingHttpResponse(audit.as_csv_rows(audit.filtered(request.GET)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="screentest-audit-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response


class ThrottledLoginView(auth_views.LoginView):
    """Django's login view, answering 429 once an account from this address, or this address,
    has tried too often (the backend enforces it; this only words the answer)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = False

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username")
        if login_throttle.is_blocked(request, username):
            return self._throttled(request)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200 and login_throttle.is_blocked(request, username):
            return self._throttled(request)
        return response

    def _throttled(self, request):
        return render(
            request,
            self.template_name,
            {"form": self.get_form(), "throttled": True, "next": request.POST.get("next", "")},
            status=429,
        )


def _report_message(request, message: str, *, status: int = 200, error: bool = False):
    return render(request, "moderation/_message.html", {"message": message, "error": error}, status=status)


def _take_report(request, reporter_key: str, *, clip: Clip | None, prompt: Prompt | None):
    try:
        _, created = report(
            reporter_key=reporter_key,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
            clip=clip,
            prompt=prompt,
        )
    except ReportError as exc:
        return _report_message(request, exc.message, status=400, error=True)
    thanks = "Thanks: a moderator will look at it." if created else "You already reported this; it counts once."
    return render(request, "moderation/_report_done.html", {"message": thanks})


@require_POST
def report_view(request):
    """Anyone reports a clip or a prompt from the gallery, the prompt page or the clip page."""
    kind, public_id = request.POST.get("kind", ""), request.POST.get("id", "")
    clip = prompt = None
    if kind == "clip":
        clip = Clip.objects.select_related("job__prompt").filter(public_id=public_id, hidden=False).first()
    elif kind == "prompt":
        prompt = Prompt.objects.filter(public_id=public_id).first()
    else:
        return _report_message(request, "Say what you report: a clip or a prompt.", status=400, error=True)
    if clip is None and prompt is None:
        return _report_message(request, "That is no longer here.", status=404, error=True)
    return _take_report(request, visitor_key(request), clip=clip, prompt=prompt)


@require_POST
def report_battle_view(request):
    """Report from the vote page: the battle token says which clips; the client only says
    which side (or the prompt), so reporting cannot be used to learn clip ids."""
    voter = current_voter(request)
    target = request.POST.get("target", "")
    try:
        claims = battles.unsign(request.POST.get("token", ""))
    except BattleTokenError as exc:
        return HttpResponse(exc.message, status=400)
    battle = (
        Battle.objects.select_related("left__job", "right__job", "prompt")
        .filter(public_id=claims.get("b"), voter_key=voter.key)
        .first()
        if voter is not None
        else None
    )
    if voter is None or battle is None:
        return HttpResponse("This battle was not served to you.", status=403)
    if target not in ("left", "right", "prompt"):
        return HttpResponse("Choose what to report: the left clip, the right clip or the prompt.", status=400)
    clip = {"left": battle.left, "right": battle.right}.get(target)
    return _take_report(request, voter.key, clip=clip, prompt=battle.prompt)
