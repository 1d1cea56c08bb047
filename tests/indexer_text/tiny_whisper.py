"""A tiny random Whisper in the Hugging Face layout (model, generation config, tokenizer,
feature extractor), built offline: it exercises the Whisper recognizer's real loading and
generation path; what it "hears" is noise."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import GenerationConfig, WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode


def build_tiny_random_whisper(out: Path, seed: int = 0) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    chars = list(bytes_to_unicode().values())
    vocab = {c: i for i, c in enumerate(chars)}
    (out / "vocab.json").write_text(json.dumps(vocab))
    (out / "merges.txt").write_text("#version: 0.2\n")
    tok = WhisperTokenizer(str(out / "vocab.json"), str(out / "merges.txt"))
    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|zh|>", "<|translate|>", "<|transcribe|>",
                "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"] + [f"<|{i * 0.02:.2f}|>" for i in range(1501)]
    tok.add_special_tokens({"additional_special_tokens": specials})
    tok.save_pretrained(out)
    ids = {t: tok.convert_tokens_to_ids(t) for t in specials[:10]}
    torch.manual_seed(seed)
    config = WhisperConfig(vocab_size=len(tok), num_mel_bins=80, d_model=16, encoder_layers=1, decoder_layers=1,
                           encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                           max_source_positions=1500, max_target_positions=64,
                           decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids["<|endoftext|>"],
                           pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"])
    model = WhisperForConditionalGeneration(config)
    gen = GenerationConfig(decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids["<|endoftext|>"],
                           pad_token_id=ids["<|endoftext|>"], max_length=40, is_multilingual=True,
                           lang_to_id={"<|en|>": ids["<|en|>"], "<|zh|>": ids["<|zh|>"]},
                           task_to_id={"translate": ids["<|translate|>"], "transcribe": ids["<|transcribe|>"]},
                           no_timestamps_token_id=ids["<|notimestamps|>"], begin_suppress_tokens=[ids["<|endoftext|>"]],
                           suppress_tokens=[])
    model.generation_config = gen
    model.save_pretrained(out)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(out)
    return out
