#![cfg(not(target_arch = "wasm32"))]
//! Regression tests for the crashes the cargo-fuzz targets found (see `FUZZING.md`).
//!
//! One test per crash, named after its input. Each feeds the exact crashing input through
//! the same code the fuzz target runs (`fuzz/src/harness.rs`, included below), which must
//! return without panicking, then checks that the input now gets a typed error.
//!
//! `engine_spec` inputs are written in the JSON form `cargo fuzz fmt engine_spec ARTIFACT`
//! prints (the decoded structured input), since the raw artifact bytes only mean something
//! to `arbitrary`. The artifact each came from is named in the test's comment.

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::path::PathBuf;

use flatland::codec::{npy, CodecError};
use flatland::engine::forward::init_weights;
use flatland::engine::{analyze, Problem};

/// The first layer error of an `engine_spec` case's model.
fn first_problem(case: &str) -> Option<Problem> {
    let (input_shape, layers, _, _) = harness::parse_case(case);
    let a = analyze(&harness::spec_model(&input_shape, &layers));
    a.first_error().map(|e| e.problem.clone())
}

fn assert_overflow(case: &str) {
    harness::engine_case_json(case);
    let p = first_problem(case);
    assert!(
        matches!(p, Some(Problem::Overflow { .. })),
        "expected an overflow error, got {p:?}"
    );
}

/// The case's model analyses as valid, but `init_weights` refuses it with the size guard.
fn assert_init_refused(case: &str) {
    harness::engine_case_json(case);
    let (input_shape, layers, _, _) = harness::parse_case(case);
    let a = analyze(&harness::spec_model(&input_shape, &layers));
    let e = init_weights(&a, 7, harness::FUZZ_LIMITS).expect_err("size guard refuses");
    assert!(
        matches!(e.problem, Problem::TooLarge { .. }),
        "expected TooLarge, got {e}"
    );
}

// ---------------------------------------------------------------------------------------
// engine_spec
// ---------------------------------------------------------------------------------------

/// `engine_spec` crash-c14a0ca5c71530235327cb629d78742a2bfeeff1: `d + padding` overflowed in
/// `ZeroPadding1D::output_shape` (reshaping.rs).
#[test]
fn zero_padding1d_huge_padding() {
    assert_overflow(
        r#"{"batch":1,"input_shape":[1,0],"layers":[["ZeroPadding1D",{"n":null,"padding":9223372036854775808}]],"values_bits":[4278255370]}"#,
    );
}

/// `engine_spec` crash-58b4ac9fa6688612379054dd1ca9a45727e4d5cc (and 1524a962…): the same
/// overflow in `ZeroPadding2D::output_shape`.
#[test]
fn zero_padding2d_huge_padding() {
    assert_overflow(
        r#"{"batch":2,"input_shape":[4,4,2],"layers":[["ZeroPadding2D",{"negative_slope":{"momentum":true},"padding":18446744073709551615}]],"values_bits":[]}"#,
    );
}

/// `engine_spec` crash-ba887ce80bb084beb9d6d0a9ae31fcd4b89579ce: `3 * units` overflowed in
/// `Gru::weights` (recurrent.rs).
#[test]
fn gru_units_near_u64_max() {
    assert_overflow(
        r#"{"batch":1,"input_shape":[2,1],"layers":[["GRU",{"activation":null,"go_backwards":false,"recurrent_activation":"sigmoid","reset_after":true,"return_sequences":false,"return_state":false,"stateful":false,"strides":[],"units":9223372036854775808,"use_bias":true}],["Dense",{"activation":"linear","units":16,"use_bias":true}],["Dense",{"activation":"linear","units":16,"use_bias":true}],["Dense",{"activation":"linear","units":16,"use_bias":true}],["Dense",{"activation":"linear","units":16,"use_bias":true}],["Dense",{"activation":"linear","units":16,"use_bias":true}]],"values_bits":[]}"#,
    );
}

/// `engine_spec` crash-5beb660d700668b754ae9e5087e13c0d259c3e66: the GRU config given as a
/// list (`[units, ...]`, which serde accepts for a struct) with `units` near `u64::MAX`.
#[test]
fn gru_config_as_list_huge_units() {
    assert_overflow(
        r#"{"batch":1,"input_shape":[4,8],"layers":[["GRU",[18446744073709551614,null]],["PReLU",{"shared_axes":null}],["AlphaDropout",{"rate":0.10000000149011612,"seed":null}]],"values_bits":[]}"#,
    );
}

/// `engine_spec` crash-214e8d504aa7de668e9bfb2549dc35a4bade290f: `4 * units` overflowed in
/// `Lstm::weights` (recurrent.rs).
#[test]
fn lstm_units_2_pow_63() {
    assert_overflow(
        r#"{"batch":2,"input_shape":[8,4],"layers":[["LSTM",{"activation":null,"units":9223372036854775808}]],"values_bits":[20856382,1044266558,1052901694,184]}"#,
    );
}

/// `engine_spec` crash-7c82add536e8da98a531ab8c3f87a2eb5ec3584f: an input with a zero-length
/// axis and a `Conv2DTranspose` stride of 2^63 give `PReLU` an `alpha` of shape
/// (0, 2^63, 16): zero elements, so the size guard let it through, and ndarray panicked
/// ("Shape too large") allocating it in `init_weights` (forward.rs).
#[test]
fn empty_axis_huge_transpose_stride() {
    assert_init_refused(
        r#"{"batch":1,"input_shape":[0,1,9],"layers":[["Conv2DTranspose",{"input_dim":21,"strides":9223372036854775808}],["PReLU",{"shared_axes":null}],["Dense",{"activation":"linear","units":16,"use_bias":true}]],"values_bits":[]}"#,
    );
}

/// `engine_spec` crash-9ef26567bd87d5834376be0bd95796ca6db5f4d3: the same ndarray panic for a
/// Dense kernel of shape (0, `u64::MAX`) after an input with empty axes.
#[test]
fn empty_input_dense_units_u64_max() {
    assert_init_refused(
        r#"{"batch":1,"input_shape":[2,0,0,0],"layers":[["Dense",{"activation":null,"units":18446744073709551615,"use_bias":false}]],"values_bits":[]}"#,
    );
}

/// Found while writing the `engine_spec` target (by reading `Pool::forward`, then confirmed
/// with this input through the harness, where it ran for minutes), not by a fuzzer run:
/// "same" padding accepts any `pool_size`, and the forward pass walked every cell of a
/// 10^12-wide window (pooling.rs). Also `pool_size` = `u64::MAX`, which overflowed the
/// "same" padding arithmetic in `pad_before`.
#[test]
fn max_pooling1d_same_huge_pool() {
    let t = std::time::Instant::now();
    harness::engine_case_json(
        r#"{"batch":1,"input_shape":[4,3],"layers":[["MaxPooling1D",{"pool_size":1000000000000,"padding":"same","strides":1}]],"values_bits":[]}"#,
    );
    harness::engine_case_json(
        r#"{"batch":2,"input_shape":[5,6,2],"layers":[["AveragePooling2D",{"pool_size":[18446744073709551615,3],"padding":"same","strides":[2,1]}]],"values_bits":[]}"#,
    );
    assert!(t.elapsed().as_secs() < 10, "took {:?}", t.elapsed());
}

// ---------------------------------------------------------------------------------------
// forward_weights
// ---------------------------------------------------------------------------------------

fn unhex(parts: &[&str]) -> Vec<u8> {
    let h: String = parts.concat();
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// Replay a `forward_weights` artifact: byte 0 picked `fixture` (index into the sorted
/// `tests/fixtures/forward` list when it was found; named here so new fixtures cannot
/// change the model), byte 1 the mode, the rest is the payload. Returns the payload.
fn replay_forward_weights(fixture: &str, artifact: &[u8]) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/forward")
        .join(fixture);
    let model = std::fs::read_to_string(dir.join("model.json")).unwrap();
    let input = std::fs::read(dir.join("input.npy")).unwrap();
    let [_, mode, payload @ ..] = artifact else {
        panic!("artifact too short")
    };
    harness::forward_weights(
        &model,
        &input,
        harness::WeightsMode::from_byte(*mode),
        payload,
    );
    payload.to_vec()
}

/// `forward_weights` crash-31ea0b16573251db389a976a8f701f44a1276584 (fixture byte 0x4c =
/// `f077_embedding_lstm`, mode 1 = one .npy weight): a header whose `'shape':` value starts
/// with `)` made `read_npy` slice `[1..0]` (npy.rs). All 37 artifacts of the first run hit this
/// line (35 like this, 2 like the next test), through all three modes.
#[test]
fn npy_shape_starts_with_close_paren() {
    const ARTIFACT: &[&str] = &[
    "4c01934e554d505901007600617065273a2c2035202020602020205059010076007b276465736372273a203427273c66",
    "2c2027666f72676767676767676767676767676767676767310067676767676767676767676767652c20277368617065",
    "273a2029302c2020202c357d292020200000000000000000000000000000000020202020ad7b03bf",
    ];
    let payload = replay_forward_weights("f077_embedding_lstm", &unhex(ARTIFACT));
    assert!(matches!(npy::read_npy(&payload), Err(CodecError::Npy(_))));
}

/// `forward_weights` crash-6960c21ff0024089987f77e9c3ec25a1469d641a (fixture byte 0xd0 =
/// `fr040_upsampling2d_nearest`, mode 2 = .npy input): the `'shape':` value starts with a
/// two-byte character, so slicing from byte 1 was not on a char boundary (npy.rs).
#[test]
fn npy_shape_starts_with_multibyte_char() {
    const ARTIFACT: &[&str] = &[
    "d002934e554d5059010076007b276465736c617965554d5059010076007b276465736372273a20273c6632272c202766",
    "6f727472616e5f6f722c6372273a20273c6634272c2027666f727472616e5f726f646572273a2046616c73652c202773",
    "68617065273ac3bd002c20332c20352c2032292c65202020202020202020200000002020",
    ];
    let payload = replay_forward_weights("fr040_upsampling2d_nearest", &unhex(ARTIFACT));
    assert!(matches!(npy::read_npy(&payload), Err(CodecError::Npy(_))));
}

/// `forward_weights` crash-2cb0130e64598ca38b80284a206f2ab917612b8c (fixture byte 0x43 =
/// `f068_bn_scale_false`, mode 0 = .npz weights): the same `)` shape, in the second member
/// of an .npz (`read_weight_list` → `read_npy`).
#[test]
fn npz_member_shape_starts_with_close_paren() {
    const ARTIFACT: &[&str] = &[
    "4300504b030414000000000000002100379995d79000000090000000090000006172725f302e6e7079934e554d505901",
    "0076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c2027736861",
    "7065273a2028342c292c207d202020202020202020202020202020202020202020202020202020202020202020202020",
    "2020202020202020202020202020202020202020202020200a55263e3f5117063ff9b1413f732fdebd504b0304140000",
    "000000000021007872ff029000000090000000090000006172725f312e6e7079934e554d5059010076007b2764657363",
    "72273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a292c282034",
    "2c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020",
    "2020202020202020202020202020200a96982fbfb030313da3cc8c3db45a143e504b0304140000000000000021005e23",
    "42fe9000000090000000090000006172725f322e6e7079934e554d5059010076007b276465736372273a20253c663427",
    "2c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028342c292c207d202020202020",
    "202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020",
    "2020202020200a39b0853ff6fe1f3f1f397d3f90f3353f504b0102140314000000000000002100379995d79000000090",
    "000000090000000000000000000000a401000000006172725f302e6e7079504b01021403140000000000000021007872",
    "ff029000000090000000090000000000000000000000a401b70000002172725f312e6e7079504b010214031400000000",
    "00000021005e2342fe9000000090000000090000000000000000000000a4016e0100006172725f322e6e7079504b0506",
    "0000000003000300a5000000250200000000",
    ];
    let payload = replay_forward_weights("f068_bn_scale_false", &unhex(ARTIFACT));
    assert!(matches!(
        npy::read_weight_list(&payload),
        Err(CodecError::Npy(_))
    ));
}

/// `forward_weights` crash-39f29baf13809681785346d6f04d0816f2d45043 (fixture byte 0x00 =
/// `f001_conv1d_valid`, mode 0 = .npz weights), found once a valid zip64 seed and the
/// `fuzz/dict/numpy.dict` dictionary were added: a zip64 end record giving the central
/// directory offset as ~`u64::MAX` made `u32_at` overflow computing `offset + 4` (npy.rs).
#[test]
fn npz_zip64_central_directory_offset_u64_max() {
    const ARTIFACT: &[&str] = &[
        "0000504b03042d000000000000000000000000004001000040010000090000006172725f302e6e7079934e554d505901",
        "0076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c2027736861",
        "7065273a2028322c20382c2033292c207d20202020202020202020202020202020202020202020202020202020202020",
        "2020202020202020202020202020202020202020202020200aa3d6b4be89180b3f2fd215c04701de3dc1124a3fb6fcf4",
        "3c7eaf1e3fd205bf3f34b4eabde1c1edbe0843993f75e619c0e744d03cce5958bef60f4cbf89bc8d3e779618bfdf562e",
        "3fc47ec8bf7a6fd53f2aa2823f1f9e81bf5f7aa4bf44d3993efd08f83ebbd3ecbd6dba94bf24600c3e6275e23f9be3d4",
        "3d7fdd623f8b84edbe2cc1533e6b5d663fe565853c4279d6bf8d8a0fc0c1269a3dd1ab10409b12453ebc1768bf229b41",
        "3fcc59923e8b0747bfb85d0e3f840787be93cc613e4a5080bf504b01022d002d00000000000000000000000000400100",
        "004001000009000c0000000000000000000000ffffffff6172725f302e6e7079010008000000000000000000504b0606",
        "2c000000000000002d002d000000000000000000010000000000000001000000ffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffff0000000043000000000000006701000000000000504b060700000000aa010000000000",
        "0001000000504b050600000000ffffffffffffffffffffffff0000",
    ];
    let payload = replay_forward_weights("f001_conv1d_valid", &unhex(ARTIFACT));
    assert!(matches!(
        npy::read_weight_list(&payload),
        Err(CodecError::Npy(_))
    ));
}

/// `engine_spec` crash-654a77e14fb51333311ed5a29aacdf36da694bf5 (and 2ee6b9bd…, ed8f54a9…):
/// on an input with a zero-length axis, a "same" `Conv1DTranspose` accepts any stride (its
/// output is 0 × stride), and the forward pass overflowed computing `stride + extent − 2`
/// for the cropping (conv.rs). The forward pass now runs (on an empty batch).
#[test]
fn conv_transpose_same_huge_stride_empty_input() {
    harness::engine_case_json(
        r#"{"batch":1,"input_shape":[0,12],"layers":[["Conv1DTranspose",{"activation":"relu","dilation_rate":[1],"filters":3,"kernel_size":[3],"output_padding":null,"padding":"same","strides":[18446744073709551613],"use_bias":true}],["Dense",{"activation":"linear","units":16,"use_bias":true}],["Dense",{"activation":"linear","units":16,"use_bias":true}],["Dense",{"activation":"linear","units":16,"use_bias":true}],["Dense",{"activation":"linear","units":16,"use_bias":true}]],"values_bits":[]}"#,
    );
}

/// `engine_spec` crash-2a898015508e0e471298368a0817559089647c9b (and 2f366d15…): the same
/// overflow in `Conv2DTranspose`, strides (15, `u64::MAX`) on an input of shape (11, 0, 0).
#[test]
fn conv2d_transpose_same_huge_stride_empty_input() {
    harness::engine_case_json(
        r#"{"batch":2,"input_shape":[11,0,0],"layers":[["Conv2DTranspose",{"activation":"linear","dilation_rate":[1,1],"filters":16,"kernel_size":[3,3],"output_padding":null,"padding":"same","strides":[15,18446744073709551615],"use_bias":true}]],"values_bits":[]}"#,
    );
}

/// Found by reading the convolution forward passes after the transpose crash, not by a
/// fuzzer run (`engine_spec` did not reach it in ~7·10^6 runs): "same" and "causal" padding
/// accept any `dilation_rate`, and the forward pass overflowed computing the dilated kernel
/// extent `(k − 1)·d + 1` (`Conv1D`, `DepthwiseConv2D`) or `o·s + a·d` (`Conv1DTranspose`).
/// The extent must now fit in 64 bits, like `transpose_len` already required.
#[test]
fn conv1d_same_huge_dilation() {
    for case in [
        r#"{"batch":1,"input_shape":[4,3],"layers":[["Conv1D",{"filters":2,"kernel_size":30,"padding":"same","dilation_rate":1000000000000000000}]],"values_bits":[]}"#,
        r#"{"batch":1,"input_shape":[4,3],"layers":[["Conv1D",{"filters":2,"kernel_size":3,"padding":"causal","dilation_rate":18446744073709551615}]],"values_bits":[]}"#,
        r#"{"batch":1,"input_shape":[4,4,2],"layers":[["DepthwiseConv2D",{"kernel_size":3,"padding":"same","strides":2,"dilation_rate":18446744073709551615}]],"values_bits":[]}"#,
    ] {
        assert_overflow(case);
    }
    harness::engine_case_json(
        r#"{"batch":1,"input_shape":[4,3],"layers":[["Conv1DTranspose",{"filters":2,"kernel_size":3,"padding":"same","strides":1,"dilation_rate":9223372036854775807}]],"values_bits":[]}"#,
    );
}
