"""Tiny Wan 2.1 and LTX-2 text-to-video pipelines built from config literals, with no hub access.

The shapes follow diffusers' own tests (tests/pipelines/wan/test_wan.py, get_dummy_components),
except that the text encoder (UMT5, as in Wan) comes from a config literal instead of the hub's tiny-random-t5
and the tokenizer is built in memory with `tokenizers` (a word-level vocabulary). Random weights:
the frames are noise, but every real part runs: from_pretrained of a saved directory, the text
encoder, the denoising loop with its step callback, the VAE decode, and the adapter's encode.

LTX-2 (video with sound) follows diffusers' tests/pipelines/ltx2/test_ltx2.py the same way: its
Gemma-3 text encoder (hf-internal-testing/tiny-gemma3 there) is built from a config literal, with
a one-layer SigLIP vision tower the class requires, and a word-level tokenizer; the vocoder
upsamples by the audio VAE's mel hop length (160), so its waveform lasts as long as the video,
as the real model's does.

Used by tests/unit/test_backend_diffusers.py, the integration tests and benchmarks/local_models.py.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from diffusers import (
    AutoencoderKLLTX2Audio,
    AutoencoderKLLTX2Video,
    AutoencoderKLWan,
    FlowMatchEulerDiscreteScheduler,
    LTX2Pipeline,
    LTX2VideoTransformer3DModel,
    WanPipeline,
    WanTransformer3DModel,
)
from diffusers.pipelines.ltx2 import LTX2TextConnectors
from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    Gemma3Config,
    Gemma3ForConditionalGeneration,
    PreTrainedTokenizerFast,
    UMT5Config,
    UMT5EncoderModel,
)

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


# The catalog params of an LTX-2 entry for the tiny LTX-2 pipeline: it makes sound ("audio":
# "always"), and call_args turn off the guidance passes a two-layer transformer has no blocks for
# (spatio-temporal guidance at block 28, modality isolation), as diffusers' own test does.
TINY_LTX2_PARAMS = {
    **TINY_PARAMS,
    "model": "screentest/tiny-ltx2",
    "frame_multiple": 8,
    "guidance_scale": 3.0,
    "audio": "always",
    "call_args": {
        "frame_rate": 8,
        "max_sequence_length": 16,
        "stg_scale": 0.0,
        "audio_stg_scale": 0.0,
        "modality_scale": 1.0,
        "audio_modality_scale": 1.0,
        "spatio_temporal_guidance_blocks": None,
    },
}
TINY_LTX2_SAMPLE_RATE = 16000
GEMMA_DIM = 32  # the text encoder's hidden size = the connectors' heads x head dim (LTX-2.0 layout)


def build_tokenizer(specials: tuple[str, ...] = ("<pad>", "</s>", "<unk>")) -> PreTrainedTokenizerFast:
    """A word-level tokenizer over WORDS. `specials`: pad, eos, unk (T5's), or pad, eos, bos, unk
    (Gemma's), numbered first in that order."""
    vocab = {token: index for index, token in enumerate(specials)}
    for word in WORDS:
        vocab.setdefault(word, len(vocab))
    pad, eos, *bos, unk = specials
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=unk))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token=pad,
        eos_token=eos,
        unk_token=unk,
        model_max_length=16,
        **({"bos_token": bos[0]} if bos else {}),
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


def build_tiny_ltx2() -> LTX2Pipeline:
    torch.manual_seed(0)
    tokenizer = build_tokenizer(("<pad>", "<eos>", "<bos>", "<unk>"))
    vocab_size = len(tokenizer) + 3  # and the image tokens Gemma 3 reserves (unused: no images)
    text_encoder = Gemma3ForConditionalGeneration(
        Gemma3Config(
            text_config={
                "vocab_size": vocab_size,
                "hidden_size": GEMMA_DIM,
                "intermediate_size": 37,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "head_dim": 8,
                "query_pre_attn_scalar": 8,
                "sliding_window": 16,
                "max_position_embeddings": 64,
                "pad_token_id": 0,
                "eos_token_id": 1,
                "bos_token_id": 2,
            },
            vision_config={
                "hidden_size": 16,
                "intermediate_size": 32,
                "num_hidden_layers": 1,
                "num_attention_heads": 2,
                "image_size": 8,
                "patch_size": 2,
            },
            mm_tokens_per_image=4,
            boi_token_index=vocab_size - 3,
            eoi_token_index=vocab_size - 2,
            image_token_index=vocab_size - 1,
        )
    )
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=4,
        audio_out_channels=4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=2,
        qk_norm="rms_norm_across_heads",
        caption_channels=GEMMA_DIM,
        rope_double_precision=False,
        rope_type="split",
    )
    connectors = LTX2TextConnectors(
        caption_channels=GEMMA_DIM,
        text_proj_in_factor=2 + 1,  # the text encoder's layers + its embeddings
        video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
        rope_theta=10000.0,
        rope_double_precision=False,
        causal_temporal_positioning=False,
        rope_type="split",
    )
    vae = AutoencoderKLLTX2Video(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(8,),
        decoder_block_out_channels=(8,),
        layers_per_block=(1,),
        decoder_layers_per_block=(1, 1),
        spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,),
        decoder_inject_noise=(False, False),
        downsample_type=("spatial",),
        upsample_residual=(False,),
        upsample_factor=(1,),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        output_channels=2,
        ch_mult=(1,),
        num_res_blocks=1,
        attn_resolutions=None,
        in_channels=2,
        resolution=32,
        latent_channels=2,
        norm_type="pixel",
        causality_axis="height",
        dropout=0.0,
        mid_block_add_attention=False,
        sample_rate=TINY_LTX2_SAMPLE_RATE,
        mel_hop_length=160,
        is_causal=True,
        mel_bins=8,
    )
    vocoder = LTX2Vocoder(
        in_channels=2 * 8,  # the audio VAE's output channels x mel bins
        hidden_channels=32,
        out_channels=2,
        upsample_kernel_sizes=[20, 8, 8],
        upsample_factors=[10, 4, 4],  # 160 samples per mel frame: the hop length
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1,
        output_sampling_rate=TINY_LTX2_SAMPLE_RATE,
    )
    return LTX2Pipeline(
        transformer=transformer,
        vae=vae,
        audio_vae=audio_vae,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        connectors=connectors,
        vocoder=vocoder,
    )


def save_tiny_wan(directory: Path) -> Path:
    """The tiny pipeline saved as diffusers saves real ones (model_index.json + components)."""
    build_tiny_wan().save_pretrained(str(directory))
    return directory


def save_tiny_ltx2(directory: Path) -> Path:
    build_tiny_ltx2().save_pretrained(str(directory))
    return directory


_SAVED: dict[str, Path] = {}


def saved_tiny_wan(tmp_path_factory) -> Path:
    """The tiny pipeline saved once per test session, however many test modules ask for it."""
    if "wan" not in _SAVED:
        _SAVED["wan"] = save_tiny_wan(tmp_path_factory.mktemp("tiny-wan"))
    return _SAVED["wan"]


def saved_tiny_ltx2(tmp_path_factory) -> Path:
    if "ltx2" not in _SAVED:
        _SAVED["ltx2"] = save_tiny_ltx2(tmp_path_factory.mktemp("tiny-ltx2"))
    return _SAVED["ltx2"]
