"""ImageNet's 1000 class names in Chinese (``assets/models/imagenet_classes_zh.json``), position by
position against the English list the networks' manifests hold.

Rule for Latin letters: none, except where Chinese itself writes one (``T恤``, ``福特T型车``); a
brand is said in Chinese (iPod: 苹果音乐播放器, CD player: 激光唱机, CRT monitor: 显像管显示器).
"""

from __future__ import annotations

import collections
import re
import unicodedata

import pytest

from cnnviz import i18n, models

ENGLISH = i18n.imagenet_class_names("en")
CHINESE = i18n.imagenet_class_names("zh")
#: The only Chinese names with a Latin letter: words Chinese writes so.
LATIN_IN_CHINESE = {"T恤", "福特T型车"}
#: Chart labels stay short: the longest English name is 32 characters, the longest Chinese 8.
LONGEST = 8


def test_one_chinese_name_per_class_in_the_same_order():
    assert len(ENGLISH) == len(CHINESE) == 1000
    assert all(name and name == name.strip() for name in CHINESE)
    assert not [(en, zh) for en, zh in zip(ENGLISH, CHINESE, strict=True) if en == zh]
    # Spot checks by position (the order is what ties a name to the network's output).
    assert CHINESE[:3] == ("丁鲷", "金鱼", "大白鲨") and CHINESE[-1] == "卫生纸"
    assert (CHINESE[151], CHINESE[155], CHINESE[207]) == ("吉娃娃", "西施犬", "金毛寻回犬")
    assert (CHINESE[504], CHINESE[620], CHINESE[954]) == ("咖啡杯", "笔记本电脑", "香蕉")
    assert (ENGLISH[504], ENGLISH[620], ENGLISH[954]) == ("coffee mug", "laptop computer", "banana")


def test_every_name_is_written_in_chinese():
    latin = {name for name in CHINESE if re.search("[A-Za-z]", name)}
    assert latin == LATIN_IN_CHINESE
    assert not [name for name in CHINESE if name.isascii()]
    for name in CHINESE:  # Chinese characters, and no other script or punctuation
        assert all(unicodedata.name(char).startswith("CJK UNIFIED IDEOGRAPH") or char in "T" for char in name), name
    assert max(map(len, CHINESE)) <= LONGEST


def test_no_two_classes_share_a_chinese_name_even_where_the_english_does():
    assert not [name for name, count in collections.Counter(CHINESE).items() if count > 1]
    repeated = {name: [i for i, en in enumerate(ENGLISH) if en == name] for name in set(ENGLISH)}
    assert {name: at for name, at in repeated.items() if len(at) > 1} == {
        "missile": [657, 744],  # WordNet's "missile" and "projectile, missile"
        "sunglasses": [836, 837],  # WordNet's "sunglass" and "sunglasses, dark glasses, shades"
    }
    assert (CHINESE[657], CHINESE[744]) == ("导弹", "射弹")
    assert (CHINESE[836], CHINESE[837]) == ("墨镜", "太阳镜")
    # Two cranes and two maillots, told apart in English already, stay apart in Chinese.
    assert (ENGLISH[134], CHINESE[134]) == ("crane bird", "鹤")
    assert (ENGLISH[517], CHINESE[517]) == ("construction crane", "起重机")
    assert (CHINESE[638], CHINESE[639]) == ("紧身衣", "连体泳衣")


def test_an_imagenet_network_gets_the_list_of_its_language():
    names = models.imagenet_manifest("resnet18").class_names
    assert names == ENGLISH
    assert i18n.translated_class_names(names, "zh") == CHINESE
    assert i18n.translated_class_names(list(names), "en") == ENGLISH
    shapes = models.load_bundled("shapes").manifest.class_names
    assert i18n.translated_class_names(shapes, "zh") is None  # the shapes are catalogue keys
    with pytest.raises(ValueError, match="Unknown language 'fr'"):
        i18n.imagenet_class_names("fr")
