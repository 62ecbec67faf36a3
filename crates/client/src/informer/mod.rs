//! Shared informers, after client-go's `SharedIndexInformer` and
//! `SharedInformerFactory` (v1.18).
//!
//! Entry point: [`SharedInformerFactory::new`], then [`SharedInformerFactory::informer`]
//! for each type, [`SharedIndexInformer::add_event_handler`],
//! [`SharedInformerFactory::start`] and [`SharedInformerFactory::wait_for_cache_sync`].
//!
//! One informer runs one [`Reflector`](crate::cache::Reflector) into a
//! [`DeltaFIFO`](crate::cache::DeltaFIFO). Popped deltas update the
//! [`Indexer`](crate::cache::Indexer) (the cache listers read) and become
//! notifications. Each handler drains its own queue on its own thread, so a slow
//! handler delays only itself. Handlers with a resync period also get an update for
//! every cached object each period.

mod factory;
mod handler;
mod lister;
mod shared;

pub use factory::{SharedInformerFactory, wait_for_cache_sync};
pub use handler::{DeletedObject, EventHandlerFuncs, ResourceEventHandler};
pub use lister::{Lister, NamespaceLister};
pub use shared::{
    CacheSynced, HandlerRegistration, InformerOptions, MINIMUM_RESYNC_PERIOD, SharedIndexInformer,
    strip_managed_fields,
};
