"""The protos pass `buf lint` (STANDARD rules) and have no breaking change against the
last released state (protos/released/), and `buf breaking` really catches a break."""

from __future__ import annotations

import re
import shutil
import subprocess

from tests.system.node_tools import ROOT, require_buf

RELEASED = ROOT / "protos" / "released" / "videosearch-v1.binpb"


def buf(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(require_buf()), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_buf_lint_is_clean():
    result = buf("lint")
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr


def test_no_breaking_change_against_the_released_protos():
    result = buf("breaking", "--against", str(RELEASED))
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr


def test_buf_breaking_catches_a_deleted_field(tmp_path):
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(ROOT / "protos" / "videosearch", tmp_path / "protos" / "videosearch")
    video = tmp_path / "protos" / "videosearch" / "v1" / "video.proto"
    text = video.read_text()
    assert "  string uri = 2;\n" in text
    video.write_text(text.replace("  string uri = 2;\n", ""))
    assert buf("lint", cwd=tmp_path).returncode == 0, "the change is lint-clean: only breaking can catch it"
    result = buf("breaking", "--against", str(RELEASED), cwd=tmp_path)
    assert result.returncode != 0
    assert 'Previously present field "2" with name "uri" on message "Video" was deleted' in result.stdout, result.stdout


def test_every_proto_file_names_its_package_for_every_language():
    """buf's PACKAGE_SAME_* rules only check that the files agree, also when all lack an
    option; this checks each file sets them, with a Java outer class named after the file."""
    for proto in sorted((ROOT / "protos" / "videosearch" / "v1").glob("*.proto")):
        options = dict(re.findall(r'^option (\w+) = "?(.*?)"?;$', proto.read_text(), flags=re.M))
        assert options == {
            "csharp_namespace": "Videosearch.V1",
            "go_package": "github.com/videosearch/videosearch/gen/go/videosearch/v1;videosearchv1",
            "java_multiple_files": "true",
            "java_outer_classname": f"{proto.stem.capitalize()}Proto",
            "java_package": "dev.videosearch.v1",
            "objc_class_prefix": "VSX",
            "php_namespace": "Videosearch\\\\V1",
            "ruby_package": "Videosearch::V1",
        }, proto.name
