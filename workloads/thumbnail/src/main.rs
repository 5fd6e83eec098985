//! `thumbnail`: decode a JPEG or PNG (8/16-bit, grey, alpha), apply its EXIF
//! orientation, resize it to fit a bounding box (aspect ratio kept,
//! Catmull-Rom), and encode the result as PNG.
//!
//! Catmull-Rom, not Lanczos3: Lanczos's kernel calls `sin`, whose last bit
//! differs between glibc and musl/Rust's libm, so the glibc build (Debian
//! image) produced a different PNG from the musl and Wasm builds for some
//! inputs (seen: libjxl_flower_small.rgba.png). The Catmull-Rom kernel is a
//! cubic polynomial — plain IEEE arithmetic, the same bits on every target.
//!
//! Request: part `input` (the image file); params `max_width`, `max_height`
//! (pixels, default 256 each, at most 16384). Result bytes: the encoded PNG.
//! A corrupt or unsupported image is rejected with kind `decode`.

use coldbench_protocol::Request;
use coldbench_protocol::workload::{Output, Rejection, serve};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;

const MAX_SIDE_PX: u32 = 16_384;

fn dimension(req: &Request, key: &str) -> Result<u32, Rejection> {
    match req.param(key) {
        None => Ok(256),
        Some(s) => s
            .parse()
            .ok()
            .filter(|n| (1..=MAX_SIDE_PX).contains(n))
            .ok_or_else(|| {
                Rejection::new("params", format!("{key}={s} is not in 1..={MAX_SIDE_PX}"))
            }),
    }
}

fn handle(req: &Request) -> Result<Output, Rejection> {
    let input = req
        .part("input")
        .ok_or_else(|| Rejection::new("params", "thumbnail needs a part named `input`"))?;
    let (max_w, max_h) = (dimension(req, "max_width")?, dimension(req, "max_height")?);
    let reader = ImageReader::new(Cursor::new(input))
        .with_guessed_format()
        .map_err(|e| Rejection::new("decode", format!("cannot read image header: {e}")))?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png)) => f,
        Some(other) => {
            return Err(Rejection::new(
                "decode",
                format!("{other:?} images are not supported (JPEG and PNG are)"),
            ));
        }
        None => {
            return Err(Rejection::new(
                "decode",
                "input is neither a JPEG nor a PNG (unrecognised signature)",
            ));
        }
    };
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| Rejection::new("decode", format!("corrupt {format:?}: {e}")))?;
    let orientation = decoder
        .orientation()
        .map_err(|e| Rejection::new("decode", format!("corrupt {format:?} metadata: {e}")))?;
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| Rejection::new("decode", format!("corrupt {format:?}: {e}")))?;
    let (src_w, src_h) = (img.width(), img.height());
    img.apply_orientation(orientation);
    let thumb = img.resize(max_w, max_h, FilterType::CatmullRom);
    let mut png = Vec::new();
    thumb
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| Rejection::new("encode", format!("PNG encoding failed: {e}")))?;
    Ok(Output {
        bytes: png,
        fields: vec![
            ("format".into(), format!("{format:?}").to_lowercase()),
            ("src".into(), format!("{src_w}x{src_h}")),
            ("color".into(), format!("{:?}", img.color())),
            (
                "out".into(),
                format!("{}x{}", thumb.width(), thumb.height()),
            ),
        ],
    })
}

fn main() {
    std::process::exit(serve("thumbnail", handle));
}
