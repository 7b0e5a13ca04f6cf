"""Attribution pictures: they draw what they are given, and bad input is named."""

import numpy as np
import pytest

from axonic.explain.visualize import attention_heatmap, feature_bars, image_heatmap, token_heatmap

pytest.importorskip("matplotlib")


def test_image_heatmap_overlays_the_attribution_on_the_image(tmp_path):
    attr = np.zeros((1, 6, 6))
    attr[0, 2, 3] = 2.0
    fig = image_heatmap(attr, np.ones((1, 6, 6)), title="saliency", path=tmp_path / "h.png")
    images = fig.axes[0].get_images()
    assert len(images) == 2
    assert np.array_equal(images[1].get_array(), attr[0])
    assert (tmp_path / "h.png").stat().st_size > 0


def test_feature_bars_put_the_largest_attribution_on_top():
    fig = feature_bars([0.1, -0.7, 0.3], ["age", "dose", "weight"])
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "dose"


def test_token_and_attention_heatmaps_draw_every_token():
    fig = token_heatmap(["the", "cat", "sat"], [0.1, 0.8, -0.3])
    assert [t.get_text() for t in fig.axes[0].texts] == ["the", "cat", "sat"]
    fig = attention_heatmap(np.eye(3), ["the", "cat", "sat"])
    assert np.array_equal(fig.axes[0].get_images()[0].get_array(), np.eye(3))


def test_picture_errors_name_the_function_and_shape():
    with pytest.raises(ValueError, match=r"image_heatmap: expected one image .* got shape "
                                         r"\(2, 2, 2, 2\)"):
        image_heatmap(np.ones((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="feature_bars: got 1 feature names for 2"):
        feature_bars([1.0, 2.0], ["a"])
    with pytest.raises(ValueError, match="token_heatmap: got 2 tokens for 1 scores"):
        token_heatmap(["a", "b"], [1.0])
    with pytest.raises(ValueError, match=r"attention_heatmap: expected one \(L, S\) map"):
        attention_heatmap(np.ones(3))
