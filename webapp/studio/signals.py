"""What the studio announces, for apps above it to react to (the studio imports none of them)."""

from django.dispatch import Signal

# A visitor was shown a prompt's results with model names. Arguments: request, prompts (a list).
# The arena listens, so blind votes by someone who has seen the answer can be set aside.
named_results_viewed = Signal()

# The prompt policy judged a submission. Arguments: verdict (webapp.policy.screening.Verdict),
# prompt (None when rejected: nothing is stored), fields (the validated input), source.
# Sent inside the transaction that stores an allowed or held prompt, so a receiver's writes
# commit or roll back with it. The moderation app writes it to the audit log.
prompt_screened = Signal()

# A moderator rejected a prompt. Arguments: prompt. Sent inside the rejecting transaction, after
# its clips are hidden: receivers remove what they derived from the prompt's clips (deleting
# files only once it commits). The gallery deletes the prompt's side-by-side exports.
prompt_rejected = Signal()
