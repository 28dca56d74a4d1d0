pub mod assembly;
pub mod inventory;
pub mod template;
