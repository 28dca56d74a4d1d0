pub mod thumbnail;
