from credits_app.stripe_sim.formdata import decode_form


def test_brackets_build_nested_dicts_and_lists():
    params = decode_form(
        "line_items[0][price]=price_a&line_items[0][quantity]=2&line_items[1][price]=price_b"
        "&payment_intent_data[metadata][user_id]=42&expand[0]=data.product&mode=payment"
    )

    assert params == {
        "line_items": [{"price": "price_a", "quantity": "2"}, {"price": "price_b"}],
        "payment_intent_data": {"metadata": {"user_id": "42"}},
        "expand": ["data.product"],
        "mode": "payment",
    }


def test_empty_brackets_append_and_metadata_digit_keys_stay_keys():
    params = decode_form("expand[]=a&expand[]=b&metadata[0]=zero&metadata[note]=")

    assert params["expand"] == ["a", "b"]
    assert params["metadata"] == {"0": "zero", "note": ""}


def test_list_indexes_are_ordered_numerically():
    pairs = "&".join(f"items[{i}]=v{i}" for i in (10, 2, 0, 1))

    assert decode_form(pairs)["items"] == ["v0", "v1", "v2", "v10"]
