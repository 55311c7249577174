"""What the gallery does when other parts of the site announce something (connected in
apps.GalleryConfig.ready)."""

from django.db import transaction
from django.dispatch import receiver

from webapp.core.storage import delete_stored
from webapp.studio.signals import prompt_rejected

from .models import SideBySideExport


@receiver(prompt_rejected, dispatch_uid="gallery-delete-rejected-exports")
def delete_rejected_prompt_exports(sender, prompt, **kwargs) -> None:
    """A rejected prompt's side-by-side exports show its clips: rows go with the rejection, files
    once it commits. A render still running finds its row gone and discards its own file."""
    exports = SideBySideExport.objects.select_for_update().filter(prompt=prompt)
    files = [name for name in exports.values_list("file", flat=True) if name]
    exports.delete()
    if files:
        transaction.on_commit(lambda: delete_stored(*files), robust=True)
