//! The methods of FlyteAdmin's gRPC services that this client uses, one line each: the method
//! path of `flyteidl/service/{admin,dataproxy,auth,signal}.proto` and its message types.

use flytekit_idl::admin;
use flytekit_idl::service;

use crate::client::{Method, Remote};
use crate::error::RemoteError;

const ADMIN: &str = "flyteidl.service.AdminService";
const DATA_PROXY: &str = "flyteidl.service.DataProxyService";
const AUTH_METADATA: &str = "flyteidl.service.AuthMetadataService";
const SIGNAL: &str = "flyteidl.service.SignalService";

pub(crate) const GET_OAUTH2_METADATA: Method = Method {
    service: AUTH_METADATA,
    name: "GetOAuth2Metadata",
};
pub(crate) const GET_PUBLIC_CLIENT_CONFIG: Method = Method {
    service: AUTH_METADATA,
    name: "GetPublicClientConfig",
};

macro_rules! rpcs {
    ($($(#[$doc:meta])* $service:ident $name:literal fn $fn:ident($req:ty) -> $resp:ty;)*) => {
        impl Remote {
            $(
                $(#[$doc])*
                pub async fn $fn(&self, request: $req) -> Result<$resp, RemoteError> {
                    self.call(Method { service: $service, name: $name }, request).await
                }
            )*
        }
    };
}

rpcs! {
    /// `AdminService.CreateTask`: registers a task version.
    ADMIN "CreateTask" fn create_task(admin::TaskCreateRequest) -> admin::TaskCreateResponse;
    /// `AdminService.GetTask`: reads a task version.
    ADMIN "GetTask" fn get_task(admin::ObjectGetRequest) -> admin::Task;
    /// `AdminService.CreateWorkflow`: registers a workflow version.
    ADMIN "CreateWorkflow" fn create_workflow(admin::WorkflowCreateRequest) -> admin::WorkflowCreateResponse;
    /// `AdminService.GetWorkflow`: reads a workflow version.
    ADMIN "GetWorkflow" fn get_workflow(admin::ObjectGetRequest) -> admin::Workflow;
    /// `AdminService.CreateLaunchPlan`: registers a launch plan version.
    ADMIN "CreateLaunchPlan" fn create_launch_plan(admin::LaunchPlanCreateRequest) -> admin::LaunchPlanCreateResponse;
    /// `AdminService.GetLaunchPlan`: reads a launch plan version.
    ADMIN "GetLaunchPlan" fn get_launch_plan(admin::ObjectGetRequest) -> admin::LaunchPlan;
    /// `AdminService.UpdateLaunchPlan`: activates or deactivates a launch plan version.
    ADMIN "UpdateLaunchPlan" fn update_launch_plan(admin::LaunchPlanUpdateRequest) -> admin::LaunchPlanUpdateResponse;
    /// `AdminService.CreateExecution`: starts an execution of a launch plan or task.
    ADMIN "CreateExecution" fn create_execution(admin::ExecutionCreateRequest) -> admin::ExecutionCreateResponse;
    /// `AdminService.RelaunchExecution`: starts an execution again with the same inputs.
    ADMIN "RelaunchExecution" fn relaunch_execution(admin::ExecutionRelaunchRequest) -> admin::ExecutionCreateResponse;
    /// `AdminService.GetExecution`: reads an execution's spec and status.
    ADMIN "GetExecution" fn get_execution(admin::WorkflowExecutionGetRequest) -> admin::Execution;
    /// `AdminService.GetExecutionData`: reads an execution's inputs and outputs.
    ADMIN "GetExecutionData" fn get_execution_data(admin::WorkflowExecutionGetDataRequest) -> admin::WorkflowExecutionGetDataResponse;
    /// `AdminService.TerminateExecution`: aborts a running execution.
    ADMIN "TerminateExecution" fn terminate_execution(admin::ExecutionTerminateRequest) -> admin::ExecutionTerminateResponse;
    /// `AdminService.ListNodeExecutions`: the node executions of an execution.
    ADMIN "ListNodeExecutions" fn list_node_executions(admin::NodeExecutionListRequest) -> admin::NodeExecutionList;
    /// `DataProxyService.CreateUploadLocation`: a signed URL to upload a file to.
    DATA_PROXY "CreateUploadLocation" fn create_upload_location(service::CreateUploadLocationRequest) -> service::CreateUploadLocationResponse;
    /// `AuthMetadataService.GetOAuth2Metadata`: where to get tokens (anonymous).
    AUTH_METADATA "GetOAuth2Metadata" fn get_oauth2_metadata(service::OAuth2MetadataRequest) -> service::OAuth2MetadataResponse;
    /// `AuthMetadataService.GetPublicClientConfig`: Flyte's public client (anonymous).
    AUTH_METADATA "GetPublicClientConfig" fn get_public_client_config(service::PublicClientAuthConfigRequest) -> service::PublicClientAuthConfigResponse;
    /// `SignalService.ListSignals`: the signals of an execution's gate nodes.
    SIGNAL "ListSignals" fn list_signals(admin::SignalListRequest) -> admin::SignalList;
    /// `SignalService.SetSignal`: gives a signal its value.
    SIGNAL "SetSignal" fn set_signal(admin::SignalSetRequest) -> admin::SignalSetResponse;
}
