import numpy as np
import pytest

from axonic.data import DataLoader
from axonic.data.datasets import CSVDataset

TABLE = """age,color,height,label
30,red,1.70,yes
,blue,1.80,no
45,red,,yes
50,green,1.60,no
"""


@pytest.fixture
def table(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(TABLE)
    return p


def test_missing_values_error_names_columns_rows_and_remedies(table):
    with pytest.raises(ValueError, match=r"missing values in column\(s\) 'age' \(1 row\), "
                                         r"'height' \(1 row\); pass na='drop'.*na='mean'.*"
                                         r"SimpleImputer"):
        CSVDataset(table, target="label")


def test_na_drop_one_hot_and_class_target(table):
    ds = CSVDataset(table, target="label", na="drop")
    assert len(ds) == 2 and ds.dropped_rows == 2
    assert ds.feature_names == ["age", "color=green", "color=red", "height"]
    assert ds.categorical_columns == ["color"] and ds.classes == ["no", "yes"]
    x, y = ds.tensors
    np.testing.assert_allclose(x.numpy(), [[30, 0, 1, 1.7], [50, 1, 0, 1.6]], rtol=1e-6)
    assert y.dtype == np.int64 and y.tolist() == [1, 0]
    xb, yb = next(iter(DataLoader(ds, batch_size=2)))
    assert xb.shape == (2, 4) and xb.dtype == np.float32


def test_na_mean_fills_with_column_means(table):
    ds = CSVDataset(table, target="label", na="mean", encoding="index")
    x = ds.tensors[0].numpy()
    assert ds.feature_names == ["age", "color", "height"]
    np.testing.assert_allclose(x[:, 0], [30, (30 + 45 + 50) / 3, 45, 50], rtol=1e-6)
    np.testing.assert_allclose(x[2, 2], (1.7 + 1.8 + 1.6) / 3, rtol=1e-6)
    assert x[:, 1].tolist() == [2, 0, 2, 1]  # blue, green, red -> 0, 1, 2


def test_non_numeric_column_must_be_declared(table):
    with pytest.raises(ValueError, match=r"column 'color' is not numeric \(e\.g\. value "
                                         r"'red'\); declare it categorical=\['color'\]"):
        CSVDataset(table, target="label", categorical=None, na="drop")


def test_numeric_codes_can_be_declared_categorical_and_target_kinds(tmp_path):
    p = tmp_path / "n.csv"
    p.write_text("zone,x,y,price\n1,0.5,2,10.5\n2,0.25,1,3.0\n1,1.0,0,7.25\n")
    ds = CSVDataset(p, target="price", categorical=["zone"])
    assert ds.feature_names == ["zone=1", "zone=2", "x", "y"]
    y = ds.tensors[1]
    assert y.dtype == np.float32 and y.shape == (3, 1) and ds.classes is None
    whole = CSVDataset(p, target="y")
    assert whole.tensors[1].dtype == np.int64 and whole.tensors[1].tolist() == [2, 1, 0]
    both = CSVDataset(p, target=["x", "price"], target_type="float")
    assert both.tensors[1].shape == (3, 2)
    by_index = CSVDataset(p, target=1, features=[2])
    assert by_index.feature_names == ["y"] and by_index.tensors[1].shape == (3, 1)


def test_reference_reuses_encoders_for_a_test_file(table, tmp_path):
    train = CSVDataset(table, target="label", na="mean")
    other = tmp_path / "test.csv"
    other.write_text("age,color,height,label\n20,green,1.5,no\n")
    test = CSVDataset(other, target="label", reference=train)
    assert test.feature_names == train.feature_names
    np.testing.assert_allclose(test.tensors[0].numpy(), [[20, 0, 1, 0, 1.5]], rtol=1e-6)
    bad = tmp_path / "bad.csv"
    bad.write_text("age,color,height,label\n20,purple,1.5,no\n")
    with pytest.raises(ValueError, match="column 'color' of .*purple"):
        CSVDataset(bad, target="label", reference=train)


def test_csv_argument_and_file_errors(table, tmp_path):
    with pytest.raises(KeyError, match=r"no column 'weight' .* columns are \['age', 'color', "):
        CSVDataset(table, target="weight")
    with pytest.raises(ValueError, match="na must be 'error', 'drop' or 'mean', got 'zero'"):
        CSVDataset(table, na="zero")
    ragged = tmp_path / "r.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    with pytest.raises(ValueError, match=r"line 3 of .* has 1 fields, expected 2"):
        CSVDataset(ragged)
    empty_target = tmp_path / "e.csv"
    empty_target.write_text("a,b\n1,\n2,3\n")
    with pytest.raises(ValueError, match=r"target column\(s\) \['b'\] have missing values"):
        CSVDataset(empty_target, na="mean")
