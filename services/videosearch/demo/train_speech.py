"""Train the demo speech recognizer (videosearch.embedder.speech_ctc) on espeak-ng speech.

    nice -n 10 python -m videosearch.demo.train_speech --out models/demo-speech --seed 0
    # then more steps on fresh sentences, starting from those weights:
    nice -n 10 python -m videosearch.demo.train_speech --init-from models/demo-speech --seed 1 --out DIR

Training speech: random English word sequences (a third of the words from ``FUNCTION_WORDS``,
the rest from a word list, Debian's ``wamerican`` /usr/share/dict/words by default: the word
list is needed to train, not to run, since the vocabulary the recognizer snaps to is committed
beside the weights) spoken by espeak-ng with a random English voice, voice variant, speed
(115-195 words a minute), pitch and loudness, resampled to 16 kHz, with random silence around it
and light white noise (20-45 dB under the speech). The sentences the WER bench and the demo say
(:data:`HELD_OUT`) are never spoken in training.

Deterministic for a seed and thread count: the sentences and their voices come from the seed,
torch runs deterministic algorithms on a fixed thread count, and training runs a fixed number
of steps (not "until a time is up").

Continuing (``--init-from DIR``): the network starts from DIR's weights (same config.json) and
trains on new sentences (use another ``--seed`` than the first run's) with a fine-tuning learning
rate: a short linear warm-up to ``FINE_TUNE_LEARNING_RATE``, then halving every
``FINE_TUNE_HALF_LIFE`` steps. That schedule depends on the step only, not on ``--steps``, so the
checkpoint a run saves at step k (``--checkpoints DIR``: DIR/step-k) is exactly what ``--steps k``
gives: a run stopped early is still reproducible by one command.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import subprocess
import sys
import time
import wave
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from videosearch.demo.everyday_sentences import EverydaySentences
from videosearch.embedder.speech_ctc import (
    ALPHABET,
    MELS,
    SAMPLE_RATE,
    build_model,
    greedy_words,
    log_mel,
    output_frames,
)

FUNCTION_WORDS = """
a about above after again against all also am an and any are around as at back be because been before being
below between both but by can could did do does doing don't down during each even every few first for from
further get go had has have having he her here hers him his how i i'm if in into is it it's its just know last
let's like long made make many may me more most much must my new next no nor not now of off often on once one
only or other our out over own people right said same say see she should since so some still such take than
that the their them then there these they thing think this those through time to today too two under until up
us very was way we we'll well were what when where which while who why will with would year yes yet you your
three four five six seven eight nine ten hundred morning evening week month day night city home work school
water house place world little old big good great small high
""".split()
WORD_LIST = Path("/usr/share/dict/words")
VOICES = ["en-us", "en-us", "en-us", "en", "en", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-gb-x-gbclan"]
VARIANTS = ["", "", "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2"]
MORE_VOICES = [*VOICES, "en-gb-x-gbcwmd", "en-us-nyc"]
MORE_VARIANTS = [
    *VARIANTS,
    "",
    "",
    "m8",
    "klatt3",
    "klatt4",
    "adam",
    "Andy",
    "Annie",
    "david",
    "edward",
    "john",
    "linda",
    "paul",
    "robert",
    "steph",
]
"""``--sentences everyday`` speaks with these (two more accents, more voice variants) and a wider speed
range; ``random`` keeps the first lists, so the first two runs stay reproducible."""
HELD_OUT = {
    "we will discuss the quarterly budget at the meeting",
    "next we will discuss the quarterly budget at the meeting",
    "tomorrow the old lighthouse will be painted white",  # the demo's lecture.mp4
    "a small boat sails across the quiet lake",  # tests/indexer_text/test_demo_speech.py
    "the bakery sells fresh bread every morning",
}
"""Besides these, every sentence of bench/quality/speech_wer.py is held out (read at run time)."""
COMMON_WORDS = 20000
EVERYDAY_SHARE = 0.6
SPEEDS = {"random": (115, 196), "everyday": (110, 211)}
"""Words a minute (low inclusive, high exclusive) by ``--sentences`` kind."""

UTTERANCES = 4000
STEPS = 1200
BATCH = 24
LEARNING_RATE = 3e-3
CONFIG = {"mels": MELS, "channels": 160, "hidden": 128, "layers": 2}
FINE_TUNE_STEPS = 1000
FINE_TUNE_LEARNING_RATE = 1e-3
FINE_TUNE_WARMUP = 50
FINE_TUNE_HALF_LIFE = 400
CODECS = {"aac": ("aac", "adts"), "mp3": ("libmp3lame", "mp3"), "opus": ("libopus", "ogg")}
"""Lossy codecs a training clip may pass through (``--codec-share``): encoder and container of the
bundled ffmpeg. Every real video's audio is lossy (AAC in MP4 above all) while espeak-ng speaks clean
PCM; the recognizer hears the codec's artefacts only if it is trained on them."""
CODEC_WEIGHTS = {"aac": 0.7, "mp3": 0.15, "opus": 0.15}
CODEC_RATES = (22050, 44100, 48000)
CODEC_BITRATES_K = (64, 193)
"""Kilobits a second (low inclusive, high exclusive) a lossy clip is encoded at."""
VALIDATION_UTTERANCES = 96
"""Fresh sentences (drawn from seed + 1000, never trained on) whose CTC loss is logged at each
checkpoint: a checkpoint is picked by it, never by the held-out sentences."""


def fine_tune_factor(step: int, half_life: int = FINE_TUNE_HALF_LIFE) -> float:
    """Learning rate multiplier at ``step`` when continuing: warm-up, then exponential decay."""
    return min(1.0, (step + 1) / FINE_TUNE_WARMUP) * 0.5 ** (step / half_life)


def word_pool(path: Path = WORD_LIST) -> list[str]:
    """Lower-case alphabetic words of 2-12 letters from the word list, plus FUNCTION_WORDS."""
    words = set(FUNCTION_WORDS)
    if path.exists():
        words |= {
            w for w in path.read_text(encoding="utf-8", errors="ignore").split() if re.fullmatch(r"[a-z]{2,12}", w)
        }
    else:
        raise SystemExit(f"{path} is missing: `apt-get install -y wamerican` (or pass --words FILE)")
    return sorted(words)


def common_words(count: int = COMMON_WORDS) -> dict[str, float]:
    """The ``count`` most frequent English words (of letters, maybe one apostrophe) with their Zipf
    frequency (log10 of uses per billion words), from the wordfreq package: needed to train, not to
    run (the frequencies are committed in vocabulary.txt)."""
    try:
        import wordfreq
    except ImportError:
        raise SystemExit("training needs word frequencies: pip install wordfreq==3.1.1 (to train only)") from None
    found: dict[str, float] = {}
    for word in wordfreq.top_n_list("en", 3 * count):
        if re.fullmatch(r"[a-z]+('[a-z]+)?", word) and len(word) <= 14:
            found[word] = wordfreq.zipf_frequency(word, "en")
            if len(found) == count:
                break
    return found


def vocabulary(pool: list[str], common: dict[str, float]) -> dict[str, float]:
    """Every word the recognizer may snap to, with its Zipf frequency (0 when wordfreq has none)."""
    import wordfreq

    return {word: common.get(word) or wordfreq.zipf_frequency(word, "en") for word in sorted(set(pool) | set(common))}


def held_out_sentences() -> set[str]:
    """HELD_OUT, the WER bench's sentences (held-out and development) and the spoken probe's."""
    bench = Path(__file__).resolve().parents[3] / "bench"
    found = set(HELD_OUT)
    if (bench / "quality" / "speech_wer.py").exists():
        found |= set(re.findall(r'^\s+"([a-z\' ]+)",$', (bench / "quality" / "speech_wer.py").read_text(), flags=re.M))
    if (bench / "text" / "spoken_probe.py").exists():
        said = re.findall(r'\("([A-Z][^"]+)", "en', (bench / "text" / "spoken_probe.py").read_text())
        found |= {" ".join(re.sub(r"[^a-z' ]", " ", s.lower()).split()) for s in said}
    return found


def sentences(
    count: int, pool: list[str], common: list[str], rng: np.random.Generator, kind: str = "random"
) -> list[str]:
    """``random``: word sequences, a quarter of the words from FUNCTION_WORDS, half from the common
    words (so their spellings are learnt), a quarter from the whole word list (for the rest).
    ``everyday``: EVERYDAY_SHARE of everyday_sentences' grammatical sentences, the rest such
    sequences."""
    held = held_out_sentences()
    out: list[str] = []
    sources = (FUNCTION_WORDS, common, common, pool)
    everyday = EverydaySentences([w for w in common if len(w) >= 6], rng) if kind == "everyday" else None
    while len(out) < count:
        if everyday is not None and rng.random() < EVERYDAY_SHARE:
            sentence = everyday.sentence()
            if sentence not in held:
                out.append(sentence)
            continue
        length = int(rng.integers(3, 13))
        words = []
        for _ in range(length):
            source = sources[rng.integers(len(sources))]
            words.append(source[rng.integers(len(source))])
        sentence = " ".join(words)
        if sentence not in held:
            out.append(sentence)
    return out


def speak(text: str, voice: str, speed: int, pitch: int, amplitude: int = 100) -> np.ndarray:
    """espeak-ng's speech of ``text`` as float32 mono at SAMPLE_RATE."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", str(amplitude), "--stdout", text],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    with wave.open(io.BytesIO(wav)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    return resample(samples, rate, SAMPLE_RATE)


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling through the FFT (the spectrum cut at the new Nyquist)."""
    if rate == target:
        return samples
    # Padded so both FFT lengths factor into small primes (an odd prime length is slow).
    block = rate // np.gcd(rate, target) * 64
    samples = np.pad(samples, (0, -len(samples) % block))
    count = len(samples) * target // rate
    spectrum = np.fft.rfft(samples)
    keep = count // 2 + 1
    spectrum = spectrum[:keep] if len(spectrum) >= keep else np.pad(spectrum, (0, keep - len(spectrum)))
    return (np.fft.irfft(spectrum, count) * (count / len(samples))).astype(np.float32)


def codec_round_trip(audio: np.ndarray, codec: str, bitrate_k: int, rate: int) -> np.ndarray:
    """``audio`` (float32 mono at SAMPLE_RATE) encoded by the bundled ffmpeg with ``codec`` at
    ``bitrate_k`` kbit/s and ``rate`` Hz, then decoded back to float32 mono at SAMPLE_RATE (as a
    video's lossy audio track reaches the recognizer)."""
    from videosearch.demo.encoding import ffmpeg_exe

    encoder, container = CODECS[codec]
    rate = 48000 if codec == "opus" else rate  # Opus codes at 48 kHz only
    quiet = [ffmpeg_exe(), "-nostdin", "-loglevel", "error"]
    encoded = subprocess.run(
        [
            *quiet,
            "-f",
            "f32le",
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            "1",
            "-i",
            "pipe:0",
            "-ar",
            str(rate),
            "-c:a",
            encoder,
            "-b:a",
            f"{bitrate_k}k",
            "-f",
            container,
            "pipe:1",
        ],
        input=np.ascontiguousarray(audio, np.float32).tobytes(),
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    decoded = subprocess.run(
        [*quiet, "-i", "pipe:0", "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "pipe:1"],
        input=encoded,
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    return np.frombuffer(decoded, np.float32).copy()


def _utterance(job: tuple[int, str, int, str, float]) -> tuple[np.ndarray, str]:
    index, text, seed, kind, codec_share = job
    rng = np.random.default_rng([seed, index])
    voices, variants = (VOICES, VARIANTS) if kind == "random" else (MORE_VOICES, MORE_VARIANTS)
    voice = voices[rng.integers(len(voices))]
    variant = variants[rng.integers(len(variants))]
    audio = speak(
        text, voice + (f"+{variant}" if variant else ""), int(rng.integers(*SPEEDS[kind])), int(rng.integers(25, 76))
    )
    audio = audio * float(10 ** rng.uniform(-1.2, 0.3))  # -24 to +6 dB
    before, after = (np.zeros(int(rng.uniform(0.05, 0.5) * SAMPLE_RATE), np.float32) for _ in range(2))
    audio = np.concatenate([before, audio, after])
    level = float(np.sqrt(np.mean(audio**2)) + 1e-9) * 10 ** (-rng.uniform(20, 45) / 20)
    audio = audio + rng.normal(0, level, len(audio)).astype(np.float32)
    audio = np.clip(audio, -1, 1)
    # Drawn after every other choice, so runs without codecs hear exactly what they heard before.
    if codec_share > 0 and rng.random() < codec_share:
        codec = str(rng.choice(list(CODEC_WEIGHTS), p=list(CODEC_WEIGHTS.values())))
        bitrate_k, rate = int(rng.integers(*CODEC_BITRATES_K)), int(rng.choice(CODEC_RATES))
        audio = np.clip(codec_round_trip(audio, codec, bitrate_k, rate), -1, 1)
    return log_mel(audio).astype(np.float16), text


def synthesize(
    texts: list[str], seed: int, workers: int, kind: str = "random", codec_share: float = 0.0
) -> list[tuple[np.ndarray, str]]:
    """Log-mel features of each text spoken (see :func:`_utterance`); ``codec_share`` of them passed
    through a lossy codec (:func:`codec_round_trip`)."""
    jobs = [(i, text, seed, kind, codec_share) for i, text in enumerate(texts)]
    with Pool(workers) as pool:
        return pool.map(_utterance, jobs, chunksize=32)


def encode(text: str) -> list[int]:
    return [ALPHABET.index(c) + 1 for c in text if c in ALPHABET]


def batch_features(items, rng: np.random.Generator | None = None):
    """Padded (batch, frames, MELS) features of ``items``; with ``rng``, one random band of up to 8
    mel channels masked per utterance (SpecAugment-light, training only)."""
    import torch

    frames = max(len(f) for f, _ in items)
    features = torch.zeros(len(items), frames, MELS)
    for i, (f, _) in enumerate(items):
        features[i, : len(f)] = torch.from_numpy(f.astype(np.float32))
    if rng is not None:
        for i in range(len(items)):
            width = int(rng.integers(0, 9))
            low = int(rng.integers(0, MELS - width))
            features[i, :, low : low + width] = 0.0
    return features


def ctc_loss(model, items, ctc, rng: np.random.Generator | None = None):
    import torch

    targets = [torch.tensor(encode(t)) for _, t in items]
    log_probs = model(batch_features(items, rng)).transpose(0, 1)  # (frames, batch, classes)
    lengths = torch.tensor([output_frames(len(f)) for f, _ in items])
    return ctc(log_probs, torch.cat(targets), lengths, torch.tensor([len(t) for t in targets]))


def validation_loss(model, data) -> float:
    """Mean CTC loss over ``data`` (no masking, no gradients)."""
    import torch

    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    order = np.argsort([len(f) for f, _ in data], kind="stable")
    losses = []
    with torch.inference_mode():
        for i in range(0, len(order), BATCH):
            items = [data[j] for j in order[i : i + BATCH]]
            losses.append(ctc_loss(model, items, ctc).item() * len(items))
    return float(np.sum(losses) / len(data))


def train(
    data,
    steps: int,
    seed: int,
    log_every: int = 50,
    checkpoint=None,
    checkpoint_every: int = 200,
    init_state: dict | None = None,
    learning_rate: float = FINE_TUNE_LEARNING_RATE,
    half_life: int = FINE_TUNE_HALF_LIFE,
):
    """Train from scratch (one-cycle schedule over ``steps``) or, with ``init_state``, continue from
    those weights at ``learning_rate`` (:func:`fine_tune_factor` with ``half_life``). ``checkpoint(model, step)`` is called every
    ``checkpoint_every`` steps."""
    import torch

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    model = build_model(CONFIG)
    if init_state is None:
        optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=1e-2)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, LEARNING_RATE, total_steps=steps, pct_start=0.1)
    else:
        model.load_state_dict(init_state)
        optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=1e-2)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: fine_tune_factor(step, half_life))
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    rng = np.random.default_rng(seed)
    # Batches of similar length (less padding): sorted, cut into batches, batches shuffled per pass.
    order = np.argsort([len(f) for f, _ in data], kind="stable")
    batches = [order[i : i + BATCH] for i in range(0, len(order), BATCH)]
    step, started, running = 0, time.time(), []
    model.train()
    while step < steps:
        for b in rng.permutation(len(batches)):
            if step >= steps:
                break
            items = [data[i] for i in batches[b]]
            loss = ctc_loss(model, items, ctc, rng)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            running.append(loss.item())
            step += 1
            if step % log_every == 0:
                print(f"step {step}/{steps} loss {np.mean(running):.3f} ({time.time() - started:.0f} s)", flush=True)
                running = []
            if checkpoint is not None and step % checkpoint_every == 0 and step < steps:
                model.eval()
                checkpoint(model, step)  # a usable model while training goes on (same weights format)
                model.train()
    model.eval()
    return model


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    row = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, heard in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != heard))
    return row[-1]


def evaluate(model, seed: int) -> dict:
    """Greedy WER (no vocabulary snapping) on the held-out sentences, two voices."""
    import torch

    errors = words = 0
    for voice, speed in (("en-us", 140), ("en", 130), ("en-us", 175)):
        for sentence in sorted(held_out_sentences()):
            audio = np.concatenate(
                [np.zeros(8000, np.float32), speak(sentence, voice, speed, 50), np.zeros(8000, np.float32)]
            )
            with torch.inference_mode():
                lp = model(torch.from_numpy(log_mel(audio))[None])[0].numpy()
            heard = [w for w, _, _ in greedy_words(lp)]
            errors += word_errors(sentence.split(), heard)
            words += len(sentence.split())
    return {"held_out_greedy_wer": round(errors / words, 4), "held_out_words": words}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("models/demo-speech"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--utterances", type=int, default=UTTERANCES)
    parser.add_argument("--steps", type=int, help=f"{STEPS} from scratch, {FINE_TUNE_STEPS} with --init-from")
    parser.add_argument("--init-from", type=Path, help="continue training from this model directory's weights")
    parser.add_argument(
        "--checkpoints", type=Path, help="save each checkpoint as DIR/step-K (default: over --out as training goes)"
    )
    parser.add_argument("--checkpoint-every", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (more were slower on a busy machine)")
    parser.add_argument("--words", type=Path, default=WORD_LIST, help="word list to draw training words from")
    parser.add_argument(
        "--sentences",
        choices=sorted(SPEEDS),
        default="random",
        help="random word sequences, or everyday: grammatical everyday sentences mixed in, more voices and speeds",
    )
    parser.add_argument(
        "--codec-share",
        type=float,
        default=0.0,
        help="share of the training (and validation) clips passed through a lossy codec (CODECS) at a random bitrate",
    )
    parser.add_argument("--learning-rate", type=float, default=FINE_TUNE_LEARNING_RATE, help="peak, with --init-from")
    parser.add_argument("--half-life", type=int, default=FINE_TUNE_HALF_LIFE, help="steps, with --init-from")
    args = parser.parse_args(argv)
    import torch
    from safetensors.torch import save_file

    from safetensors.torch import load_file

    torch.set_num_threads(args.threads)
    init_state = None
    if args.init_from is not None:
        config = json.loads((args.init_from / "config.json").read_text())
        if config != CONFIG:
            raise SystemExit(f"{args.init_from}/config.json is {config}, this trainer builds {CONFIG}")
        init_state = {k: v.float() for k, v in load_file(str(args.init_from / "model.safetensors")).items()}
    steps = args.steps or (STEPS if init_state is None else FINE_TUNE_STEPS)
    started = time.time()
    pool = word_pool(args.words)
    common = common_words()
    rng = np.random.default_rng(args.seed)
    texts = sentences(args.utterances, pool, sorted(common), rng, args.sentences)
    data = synthesize(texts, args.seed, workers=2, kind=args.sentences, codec_share=args.codec_share)
    audio_hours = sum(len(f) for f, _ in data) * 0.01 / 3600
    validation_texts = sentences(
        VALIDATION_UTTERANCES, pool, sorted(common), np.random.default_rng(args.seed + 1000), args.sentences
    )
    validation = synthesize(
        validation_texts, args.seed + 1000, workers=2, kind=args.sentences, codec_share=args.codec_share
    )
    print(f"{len(data)} utterances, {audio_hours:.2f} h of speech, in {time.time() - started:.0f} s", flush=True)
    known = vocabulary(pool, common)
    vocabulary_text = "".join(f"{w}\t{z:.2f}\n" for w, z in known.items())

    def save(model, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        weights = {k: v.to(torch.float16).contiguous() for k, v in model.state_dict().items()}
        save_file(weights, str(directory / "model.safetensors"))
        (directory / "config.json").write_text(json.dumps(CONFIG, indent=1) + "\n")
        (directory / "vocabulary.txt").write_text(vocabulary_text)

    def checkpoint(model, step: int) -> None:
        directory = args.out if args.checkpoints is None else args.checkpoints / f"step-{step}"
        save(model, directory)
        loss = validation_loss(model, validation)
        (directory / "checkpoint.json").write_text(json.dumps({"step": step, "validation_loss": round(loss, 4)}) + "\n")
        print(f"checkpoint step {step}: validation loss {loss:.3f} -> {directory}", flush=True)

    model = train(
        data,
        steps,
        args.seed,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        init_state=init_state,
        learning_rate=args.learning_rate,
        half_life=args.half_life,
    )
    trained = time.time() - started
    save(model, args.out)
    results = {"validation_loss": round(validation_loss(model, validation), 4), **evaluate(model, args.seed)}
    print(results, flush=True)
    (args.out / "training_args.json").write_text(
        json.dumps(
            {
                "command": "python -m videosearch.demo.train_speech "
                + " ".join(argv if argv is not None else sys.argv[1:]),
                "seed": args.seed,
                "utterances": len(data),
                "audio_hours": round(audio_hours, 2),
                "init_from": None if args.init_from is None else str(args.init_from),
                "steps": steps,
                "batch": BATCH,
                "learning_rate": LEARNING_RATE if init_state is None else args.learning_rate,
                "schedule": "one-cycle"
                if init_state is None
                else f"linear warm-up {FINE_TUNE_WARMUP} steps, then halved every {args.half_life} steps",
                "threads": args.threads,
                "sentences": args.sentences,
                "codec_share": args.codec_share,
                "codecs": CODEC_WEIGHTS if args.codec_share else None,
                "codec_bitrates_k": list(CODEC_BITRATES_K) if args.codec_share else None,
                "words_a_minute": list(SPEEDS[args.sentences]),
                "voices": VOICES if args.sentences == "random" else MORE_VOICES,
                "variants": VARIANTS if args.sentences == "random" else MORE_VARIANTS,
                "word_list": str(args.words),
                "word_frequencies": f"wordfreq, the {COMMON_WORDS} most frequent English words",
                "vocabulary_words": len(vocabulary(pool, common)),
                "parameters": sum(p.numel() for p in model.parameters()),
                "train_seconds": round(trained),
                "torch": torch.__version__,
                "python": platform.python_version(),
                "cpu_count": os.cpu_count(),
                **results,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"saved to {args.out} after {time.time() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
