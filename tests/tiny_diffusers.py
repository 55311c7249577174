"""A tiny Wan 2.1 text-to-video pipeline built from config literals, with no hub access.

The shapes follow diffusers' own tests (tests/pipelines/wan/test_wan.py, get_dummy_components),
except that the text encoder (UMT5, as in Wan) comes from a config literal instead of the hub's tiny-random-t5
and the tokenizer is built in memory with `tokenizers` (a word-level vocabulary). Random weights:
the frames are noise, but every real part runs: from_pretrained of a saved directory, the text
encoder, the denoising loop with its step callback, the VAE decode, and the adapter's encode.

Used by tests/unit/test_backend_diffusers.py, the integration test and benchmarks/local_models.py.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

WORDS = "a the cat dog runs on beach at sunset red blue green slow pan calm lake sunrise over waves blurry".split()
TEXT_DIM = 32
# The catalog params of a model entry for this pipeline (its "native" size is tiny on purpose).
TINY_PARAMS = {
    "model": "screentest/tiny-wan",
    "fps": 8,
    "frame_multiple": 4,
    "max_frames": 17,
    "steps": 2,
    "guidance_scale": 5.0,
    "dtype": "float32",
    "memory_mode": "full",
    "max_duration_s": 2,
    "durations": [1, 2],
    "sizes": {"16:9": [64, 32], "9:16": [32, 64]},
    "call_args": {"max_sequence_length": 16},
}


def build_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for word in WORDS:
        vocab.setdefault(word, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=16
    )


def build_tiny_wan() -> WanPipeline:
    torch.manual_seed(0)  # the random weights, so every build is the same model
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(WORDS) + 3,
            d_model=TEXT_DIM,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
        )
    )
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    return WanPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder=text_encoder,
        tokenizer=build_tokenizer(),
    )


def save_tiny_wan(directory: Path) -> Path:
    """The tiny pipeline saved as diffusers saves real ones (model_index.json + components)."""
    build_tiny_wan().save_pretrained(str(directory))
    return directory


_SAVED: dict[str, Path] = {}


def saved_tiny_wan(tmp_path_factory) -> Path:
    """The tiny pipeline saved once per test session, however many test modules ask for it."""
    if "dir" not in _SAVED:
        _SAVED["dir"] = save_tiny_wan(tmp_path_factory.mktemp("tiny-wan"))
    return _SAVED["dir"]
