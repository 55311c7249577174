from django.dispatch import Signal

# Sent when a visitor is shown a prompt's results with model names. Arguments: request, prompts (a list).
# The arena listens, so blind votes by someone who has seen the answer can be set aside.
named_results_viewed = Signal()
