//! TypeScript declarations of the wire types, in one file for the kiosk UI and the server's
//! pages (`shared/wire.ts`). A test fails when the committed file is stale.

use ts_rs::TS;

use crate::*;

macro_rules! decls {
    ($($t:ty),* $(,)?) => {
        vec![$(<$t as TS>::decl()),*]
    };
}

/// The whole bindings file.
pub fn typescript_bindings() -> String {
    let mut out =
        String::from("// Generated from crates/sspr-proto by `cargo xtask gen`. Do not edit.\n\n");
    let decls: Vec<String> = decls![
        ErrorCode,
        ErrorBody,
        Intent,
        MethodKind,
        FlowState,
        StartFlowRequest,
        MethodView,
        PasswordRules,
        FlowView,
        ChallengeRequest,
        ChallengeView,
        Delivery,
        ChallengeStatus,
        VerifyRequest,
        PasswordCheckRequest,
        PasswordReasonCode,
        PasswordReason,
        PasswordCheck,
        SetPasswordRequest,
        Outcome,
        DirectoryResult,
        DoneView,
        Helpdesk,
        KioskSettings,
        PasswordOnPhone,
        EnrollRequest,
        EnrollResponse,
        Health,
        ApprovalFailure,
        FlowEvent,
        ApprovalTokenRequest,
        ApprovalInfo,
        ApprovalNumberRequest,
        PasskeyRequest,
        ApprovalFinishRequest,
        ApprovalGranted,
        ApprovalPasswordCheckRequest,
        ApprovalPasswordRequest,
        SignInRequest,
        MyMethod,
        MySession,
        SecondFactorStart,
        SecondFactorChallenge,
        SecondFactorFinish,
        PasskeyFinish,
        AuthenticatorSetup,
        ConfirmCode,
        EmailStart,
        MobileStart,
        MyQuestions,
        QuestionChoice,
        QuestionsSave,
        QuestionAnswer,
        ConsoleRole,
        ConsoleSignInRequest,
        ConsolePasskeyAnswer,
        ConsoleSession,
        PolicyView,
        PolicyChange,
        KioskState,
        KioskView,
        EnrollmentCodeRequest,
        EnrollmentCodeView,
        EnrollmentCodeState,
        EnrollmentCodeStatus,
        AuditEntry,
        AuditPage,
        AttemptView,
        ClearMethodsRequest,
        ClearMethodsResult,
        CertificateStatus,
        DirectoryStatus,
        DayCounts,
        Attention,
        Overview,
        UsageBucket,
        MethodActivity,
        FunnelStage,
        Count,
        InsightsView,
        UncoveredPerson,
        CoverageView,
    ];
    for d in decls {
        out.push_str("export ");
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_typescript_bindings_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/wire.ts");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let current = super::typescript_bindings();
        assert!(current.contains("export type FlowView"), "{current}");
        assert!(
            committed == current,
            "shared/wire.ts is stale: run `cargo xtask gen` and commit the result"
        );
    }
}
