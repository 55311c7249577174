"""A tiny random-weight CLIP model and tokenizer built from config literals, saved to a
directory as an operator would save a real checkpoint (no hub access). Used by
tests/unit/test_clip_alignment.py."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import CLIPConfig, CLIPModel, PreTrainedTokenizerFast

WORDS = "a the cat dog runs on beach at sunset red blue green ball bouncing over ocean waves".split()
IMAGE_SIZE = 32


def build_tokenizer(words: list[str] = WORDS) -> PreTrainedTokenizerFast:
    vocab = {"<pad>": 0, "<|startoftext|>": 1, "<|endoftext|>": 2, "<unk>": 3}
    for word in words:
        vocab.setdefault(word, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    # As CLIP's own tokenizer: the text model pools the hidden state at the end token.
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>", special_tokens=[("<|startoftext|>", 1), ("<|endoftext|>", 2)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<pad>",
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<unk>",
        model_max_length=16,
    )


def save_tiny_clip(dest: Path) -> Path:
    torch.manual_seed(0)  # the random weights, so every build is the same model
    config = CLIPConfig(
        text_config={
            "vocab_size": len(WORDS) + 4,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 16,
            "pad_token_id": 0,
            "bos_token_id": 1,
            "eos_token_id": 2,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": IMAGE_SIZE,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(dest)
    build_tokenizer().save_pretrained(dest)
    return dest
