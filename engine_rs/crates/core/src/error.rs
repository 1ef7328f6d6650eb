//! One error enum for the whole engine (polars keeps one too): the bindings map each
//! variant to a Python exception class in `engine_rs/errors.py` by [`EngineError::class_name`].

use thiserror::Error;

/// Everything that can go wrong inside the engine. Messages name the offending value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    /// An argument is outside its domain: zero reserve, zero amount, fee >= 1, NaN…
    #[error("{0}")]
    InvalidInput(String),
    /// An integer does not fit the type the chain uses (u64 amounts, u128 prices).
    #[error("{0}")]
    Overflow(String),
    /// The requested output is more than the pool holds.
    #[error("{0}")]
    InsufficientLiquidity(String),
    /// A quote that would step past the tick arrays a Whirlpool's state holds.
    #[error("{0}")]
    TicksMissing(String),
    /// A pool id the graph does not hold.
    #[error("unknown pool: {0}")]
    UnknownPool(String),
    /// A mint the graph does not hold.
    #[error("unknown token: {0}")]
    UnknownToken(String),
    /// A tick index outside [MIN_TICK_INDEX, MAX_TICK_INDEX] or a sqrt price outside its bounds.
    #[error("{0}")]
    InvalidTick(String),
    /// A statistic of a window that holds no samples.
    #[error("{0}")]
    EmptyWindow(String),
    /// Text that is not base58, or decodes to the wrong length.
    #[error("{0}")]
    Base58(String),
    /// PDA seeds break the runtime's limits (MaxSeedLengthExceeded).
    #[error("{0}")]
    Seed(String),
    /// `create_program_address`: the hash is on the curve (the runtime's InvalidSeeds).
    #[error("{0}")]
    InvalidSeeds(String),
    /// `find_program_address`: every bump from 255 down to 1 is on the curve.
    #[error("{0}")]
    NoViableBump(String),
    /// Bytes that are not the account or log they were said to be.
    #[error("{0}")]
    Decode(String),
    /// An account owned by another program than the decoder's.
    #[error("{0}")]
    WrongOwner(String),
    /// An account whose first 8 bytes are not the decoder's discriminator.
    #[error("{0}")]
    WrongDiscriminator(String),
    /// Fewer bytes than the layout needs.
    #[error("{0}")]
    AccountTooShort(String),
    /// A PubSub frame that is not JSON-RPC 2.0, or lacks what its method promises.
    #[error("{0}")]
    Frame(String),
    /// An Orca Whirlpool program error, by the program's own name (e.g. `TokenMaxExceeded`).
    #[error("{code}: {message}")]
    Clmm {
        code: ClmmErrorCode,
        message: String,
    },
}

/// The Whirlpool program errors the swap math can raise (names as in the program).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClmmErrorCode {
    ZeroTradableAmount,
    MultiplicationOverflow,
    MultiplicationShiftRightOverflow,
    TokenMaxExceeded,
    TokenMinSubceeded,
    AmountCalcOverflow,
    DivideByZero,
    SqrtPriceOutOfBounds,
    InvalidSqrtPriceLimitDirection,
    PartialFillError,
    InvalidTickSpacing,
    AmountOutBelowMinimum,
    AmountInAboveMaximum,
}

impl ClmmErrorCode {
    /// The program's name for this error, as in Orca's swap test cases.
    pub fn name(self) -> &'static str {
        match self {
            Self::ZeroTradableAmount => "ZeroTradableAmount",
            Self::MultiplicationOverflow => "MultiplicationOverflow",
            Self::MultiplicationShiftRightOverflow => "MultiplicationShiftRightOverflow",
            Self::TokenMaxExceeded => "TokenMaxExceeded",
            Self::TokenMinSubceeded => "TokenMinSubceeded",
            Self::AmountCalcOverflow => "AmountCalcOverflow",
            Self::DivideByZero => "DivideByZero",
            Self::SqrtPriceOutOfBounds => "SqrtPriceOutOfBounds",
            Self::InvalidSqrtPriceLimitDirection => "InvalidSqrtPriceLimitDirection",
            Self::PartialFillError => "PartialFillError",
            Self::InvalidTickSpacing => "InvalidTickSpacing",
            Self::AmountOutBelowMinimum => "AmountOutBelowMinimum",
            Self::AmountInAboveMaximum => "AmountInAboveMaximum",
        }
    }
}

impl std::fmt::Display for ClmmErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl EngineError {
    /// Shorthand for a CLMM program error.
    pub fn clmm(code: ClmmErrorCode, message: impl Into<String>) -> Self {
        Self::Clmm {
            code,
            message: message.into(),
        }
    }

    /// The Python exception class (in `engine_rs.errors`) this error maps to.
    pub fn class_name(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "InvalidInputError",
            Self::Overflow(_) => "MathOverflowError",
            Self::InsufficientLiquidity(_) => "InsufficientLiquidityError",
            Self::TicksMissing(_) => "TicksMissingError",
            Self::UnknownPool(_) => "UnknownPoolError",
            Self::UnknownToken(_) => "UnknownTokenError",
            Self::InvalidTick(_) => "InvalidTickError",
            Self::EmptyWindow(_) => "EmptyWindowError",
            Self::Base58(_) => "Base58Error",
            Self::Seed(_) => "SeedError",
            Self::InvalidSeeds(_) => "InvalidSeedsError",
            Self::NoViableBump(_) => "NoViableBumpError",
            Self::Decode(_) => "DecodeError",
            Self::WrongOwner(_) => "WrongOwnerError",
            Self::WrongDiscriminator(_) => "WrongDiscriminatorError",
            Self::AccountTooShort(_) => "AccountTooShortError",
            Self::Frame(_) => "FrameError",
            Self::Clmm { code, .. } => match code {
                ClmmErrorCode::ZeroTradableAmount => "ZeroTradableAmountError",
                ClmmErrorCode::MultiplicationOverflow => "MultiplicationOverflowError",
                ClmmErrorCode::MultiplicationShiftRightOverflow => {
                    "MultiplicationShiftRightOverflowError"
                }
                ClmmErrorCode::TokenMaxExceeded => "TokenMaxExceededError",
                ClmmErrorCode::TokenMinSubceeded => "TokenMinSubceededError",
                ClmmErrorCode::AmountCalcOverflow => "AmountCalcOverflowError",
                ClmmErrorCode::DivideByZero => "DivideByZeroError",
                ClmmErrorCode::SqrtPriceOutOfBounds => "SqrtPriceOutOfBoundsError",
                ClmmErrorCode::InvalidSqrtPriceLimitDirection => {
                    "InvalidSqrtPriceLimitDirectionError"
                }
                ClmmErrorCode::PartialFillError => "PartialFillError",
                ClmmErrorCode::InvalidTickSpacing => "InvalidTickSpacingError",
                ClmmErrorCode::AmountOutBelowMinimum => "AmountOutBelowMinimumError",
                ClmmErrorCode::AmountInAboveMaximum => "AmountInAboveMaximumError",
            },
        }
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;
