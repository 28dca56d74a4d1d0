//! generate-image (being written)
