//! Golden share links: links made by earlier versions decode to the same models, and
//! encoding those models gives the same link text (layer ids, or anything else held only
//! in memory, never reach a link).

use flatland::app::share;
use flatland::app::state::{Action, State};
use flatland::codec::{exercise, link, model_json, presets};
use flatland::engine::Model;

/// `(what, link)`, recorded before layer ids existed.
const GOLDEN: &[(&str, &str)] = &[
    ("seed", "#m1.VY7NCoAgEITfZc5e-jl5C6KXEAmpDQQzyK2L-O5pEdRpZ9iZj4lYISMspGpErQVcVgo9-UAQmJ8bkxYK3cT2NGw3nz_mY-LXSezkDtyNwRlmKvHlVQ_qxx-rgji85QDZJp1XFEwgmpHSBQ"),
    ("edited", "#m1.TU5LCsMgEL3LW7tp2pW70tBLhFAkTkGwWuKYjXj3qEnA1byZ95uEH2SCgZzuYpgFbEETRnKBIKCPmfIsynH1fx-5ni90EM-FzabYeFc41S2p3yRWshHN8baKmar8e6Gzoy_-3GpEdIYD5KPxL--2YSyCpQLdbOXrmh6INHLeAQ"),
    ("preset seed004 with compare", "#m1.nZDNCsIwEITfZc5B0lVBe7VvUUoJbYRgm0iSFjHk3U0NolAvupf9GWY_mIARZYBCWRMr9qxoGIa01DgZPVMFhm4ZerAA0Xk1C6-MRgkrhympF2m1HFqn7jL_aGLDalRSO5nkPvfv3kkr71AWnGePNVcz-cX1mgKs8Okx3xDPRccDpy3Rbo1pi39B2fkLilYoZ85-FLc3jWKTwnxKUvac7xAZ5iXt7vMWHw"),
    ("exercise 0", "#m1.VVDLboMwEPyV1Z4SyYoCQT34VqnXth-AUGXBtlgxdooXQoX8712gj-Rg2TuenZndGTvUM1rU5UnllUInrxKfyEdChc12z6lSJT7WbEfDNnj5MTfFfFtp7MkNuHbcybxlC3PwliPqIlVitrAjUXM8ZpgUTkuURrC1D4J3X-BCOEcwDNwSOBMZzGSjghgEsRG60JCDDzuSsGD3EjwpOCko9hAGvgwMV8stZNkDXExvuniAZ3Omf7nNS1Ks0LUNjmAnAvkerF_6TZQkBCPVHHoNPZm6_TUSl1WeJtmApM2LYrMhpj4eZHT6RC2oQutrWe3PSmT2IFUhN8u8r3_68C5n46T0DQ"),
];

fn cases() -> Vec<(&'static str, String)> {
    let ex = exercise::exercises()[0].clone();
    let edited = State::default()
        .reduce(Action::Add {
            class: "Dropout".into(),
            at: Some(1),
        })
        .reduce(Action::Add {
            class: "Conv2D".into(),
            at: None,
        });
    vec![
        ("seed", link::encode_model(&Model::seed())),
        ("edited", share::fragment(&edited)),
        (
            "preset seed004 with compare",
            presets::preset("seed004").map_or_else(String::new, |p| share::preset_fragment(&p)),
        ),
        ("exercise 0", share::exercise_fragment(&ex)),
    ]
}

#[test]
fn links_encode_as_before() {
    let now = cases();
    if std::env::var_os("PRINT_GOLDEN").is_some() {
        for (what, l) in &now {
            println!("    ({what:?}, {l:?}),");
        }
    }
    assert_eq!(now.len(), GOLDEN.len());
    for ((what, l), (gwhat, golden)) in now.iter().zip(GOLDEN) {
        assert_eq!(what, gwhat);
        assert_eq!(l, golden, "{what}");
    }
}

#[test]
fn golden_links_decode_to_the_same_models() {
    for (what, golden) in GOLDEN {
        let p = link::decode(golden).unwrap_or_else(|e| panic!("{what}: {e}"));
        // Re-encoding what was decoded gives the same text.
        assert_eq!(link::encode(&p), *golden, "{what}");
        // And the model JSON (no ids) round-trips.
        let json = model_json::to_string(&p.model);
        assert!(!json.contains("\"id\""), "{what}: {json}");
        let back = model_json::from_value(&serde_json::from_str(&json).unwrap()).unwrap();
        assert_eq!(back, p.model, "{what}");
        // Opening the link in the app shows that model.
        let s = share::initial_state(golden, None);
        assert_eq!(s.model, p.model, "{what}");
        assert_eq!(&share::fragment(&s), golden, "{what}");
    }
}
