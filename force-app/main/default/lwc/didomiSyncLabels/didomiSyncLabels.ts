// Every string the admin tab shows, as custom labels so the tab can be translated (Setup > Translation Workbench).
import App_Title from '@salesforce/label/c.Didomi_App_Title';
import Tab_Status from '@salesforce/label/c.Didomi_Tab_Status';
import Tab_Targets from '@salesforce/label/c.Didomi_Tab_Targets';
import Tab_Errors from '@salesforce/label/c.Didomi_Tab_Errors';
import Refresh from '@salesforce/label/c.Didomi_Refresh';
import Loading from '@salesforce/label/c.Didomi_Loading';
import Status_Title from '@salesforce/label/c.Didomi_Status_Title';
import Status_Empty from '@salesforce/label/c.Didomi_Status_Empty';
import Status_Alive from '@salesforce/label/c.Didomi_Status_Alive';
import Status_Stale from '@salesforce/label/c.Didomi_Status_Stale';
import Status_Stale_Help from '@salesforce/label/c.Didomi_Status_Stale_Help';
import Status_Heartbeat from '@salesforce/label/c.Didomi_Status_Heartbeat';
import Status_Heartbeat_Age from '@salesforce/label/c.Didomi_Status_Heartbeat_Age';
import Status_Synced_Today from '@salesforce/label/c.Didomi_Status_Synced_Today';
import Status_Failed_Today from '@salesforce/label/c.Didomi_Status_Failed_Today';
import Status_Accepted_Today from '@salesforce/label/c.Didomi_Status_Accepted_Today';
import Status_Queue from '@salesforce/label/c.Didomi_Status_Queue';
import Status_Api_Usage from '@salesforce/label/c.Didomi_Status_Api_Usage';
import Status_Api_Usage_Value from '@salesforce/label/c.Didomi_Status_Api_Usage_Value';
import Status_Last_Error from '@salesforce/label/c.Didomi_Status_Last_Error';
import Status_No_Error from '@salesforce/label/c.Didomi_Status_No_Error';
import Status_Instance from '@salesforce/label/c.Didomi_Status_Instance';
import Status_Open_Dead_Letters from '@salesforce/label/c.Didomi_Status_Open_Dead_Letters';
import Status_Open_Queue from '@salesforce/label/c.Didomi_Status_Open_Queue';
import Status_Oldest_Pending from '@salesforce/label/c.Didomi_Status_Oldest_Pending';
import Status_Nothing_Pending from '@salesforce/label/c.Didomi_Status_Nothing_Pending';
import Status_Counts_As_Of from '@salesforce/label/c.Didomi_Status_Counts_As_Of';
import Targets_Title from '@salesforce/label/c.Didomi_Targets_Title';
import Targets_Empty from '@salesforce/label/c.Didomi_Targets_Empty';
import Target_New from '@salesforce/label/c.Didomi_Target_New';
import Target_Edit from '@salesforce/label/c.Didomi_Target_Edit';
import Target_Manage_Mappings from '@salesforce/label/c.Didomi_Target_Manage_Mappings';
import Target_Object from '@salesforce/label/c.Didomi_Target_Object';
import Target_Active from '@salesforce/label/c.Didomi_Target_Active';
import Target_Upsert from '@salesforce/label/c.Didomi_Target_Upsert';
import Target_Match_Field from '@salesforce/label/c.Didomi_Target_Match_Field';
import Target_Creation_Defaults from '@salesforce/label/c.Didomi_Target_Creation_Defaults';
import Target_Deletion from '@salesforce/label/c.Didomi_Target_Deletion';
import Target_Saved from '@salesforce/label/c.Didomi_Target_Saved';
import Target_Duplicate from '@salesforce/label/c.Didomi_Target_Duplicate';
import Target_Bad_Defaults from '@salesforce/label/c.Didomi_Target_Bad_Defaults';
import Target_Missing_Defaults from '@salesforce/label/c.Didomi_Target_Missing_Defaults';
import Target_Missing_Match from '@salesforce/label/c.Didomi_Target_Missing_Match';
import Target_Default_Help from '@salesforce/label/c.Didomi_Target_Default_Help';
import Target_Mapping_Count from '@salesforce/label/c.Didomi_Target_Mapping_Count';
import Target_No_Mappings from '@salesforce/label/c.Didomi_Target_No_Mappings';
import Import_Title from '@salesforce/label/c.Didomi_Import_Title';
import Import_Help from '@salesforce/label/c.Didomi_Import_Help';
import Import_Paste from '@salesforce/label/c.Didomi_Import_Paste';
import Import_Placeholder from '@salesforce/label/c.Didomi_Import_Placeholder';
import Import_Upload from '@salesforce/label/c.Didomi_Import_Upload';
import Import_Check from '@salesforce/label/c.Didomi_Import_Check';
import Import_Widget_Id from '@salesforce/label/c.Didomi_Import_Widget_Id';
import Import_No_Value from '@salesforce/label/c.Didomi_Import_No_Value';
import Import_Unknown_Value from '@salesforce/label/c.Didomi_Import_Unknown_Value';
import Import_Inverted from '@salesforce/label/c.Didomi_Import_Inverted';
import Import_Bad_Json from '@salesforce/label/c.Didomi_Import_Bad_Json';
import Import_Wrong_Type from '@salesforce/label/c.Didomi_Import_Wrong_Type';
import Import_One_Object from '@salesforce/label/c.Didomi_Import_One_Object';
import Import_Unknown_Object from '@salesforce/label/c.Didomi_Import_Unknown_Object';
import Import_Bad_Upsert from '@salesforce/label/c.Didomi_Import_Bad_Upsert';
import Import_No_Mappings from '@salesforce/label/c.Didomi_Import_No_Mappings';
import Import_No_Field from '@salesforce/label/c.Didomi_Import_No_Field';
import Import_Upsert_Needs_Defaults from '@salesforce/label/c.Didomi_Import_Upsert_Needs_Defaults';
import Import_Ok from '@salesforce/label/c.Didomi_Import_Ok';
import Import_Summary from '@salesforce/label/c.Didomi_Import_Summary';
import Import_Existing_Target from '@salesforce/label/c.Didomi_Import_Existing_Target';
import Import_New_Target from '@salesforce/label/c.Didomi_Import_New_Target';
import Import_Button from '@salesforce/label/c.Didomi_Import_Button';
import Import_Done from '@salesforce/label/c.Didomi_Import_Done';
import Import_Didomi_Property from '@salesforce/label/c.Didomi_Import_Didomi_Property';
import Import_As from '@salesforce/label/c.Didomi_Import_As';
import Import_Result from '@salesforce/label/c.Didomi_Import_Result';
import Save from '@salesforce/label/c.Didomi_Save';
import Cancel from '@salesforce/label/c.Didomi_Cancel';
import Delete from '@salesforce/label/c.Didomi_Delete';
import Yes from '@salesforce/label/c.Didomi_Yes';
import No from '@salesforce/label/c.Didomi_No';
import Mappings_Title from '@salesforce/label/c.Didomi_Mappings_Title';
import Mappings_Empty from '@salesforce/label/c.Didomi_Mappings_Empty';
import Mapping_New from '@salesforce/label/c.Didomi_Mapping_New';
import Mapping_Kind from '@salesforce/label/c.Didomi_Mapping_Kind';
import Mapping_Purpose_Id from '@salesforce/label/c.Didomi_Mapping_Purpose_Id';
import Mapping_Preference_Id from '@salesforce/label/c.Didomi_Mapping_Preference_Id';
import Mapping_Value_Id from '@salesforce/label/c.Didomi_Mapping_Value_Id';
import Mapping_Purpose_Help from '@salesforce/label/c.Didomi_Mapping_Purpose_Help';
import Mapping_Preference_Help from '@salesforce/label/c.Didomi_Mapping_Preference_Help';
import Mapping_Value_Help from '@salesforce/label/c.Didomi_Mapping_Value_Help';
import Mapping_Source from '@salesforce/label/c.Didomi_Mapping_Source';
import Mapping_Options from '@salesforce/label/c.Didomi_Mapping_Options';
import Mapping_Confirm_Delete from '@salesforce/label/c.Didomi_Mapping_Confirm_Delete';
import Quick_Start from '@salesforce/label/c.Didomi_Quick_Start';
import Quick_Start_Help from '@salesforce/label/c.Didomi_Quick_Start_Help';
import Catalogue_Removed from '@salesforce/label/c.Didomi_Catalogue_Removed';
import Quick_Start_None from '@salesforce/label/c.Didomi_Quick_Start_None';
import Quick_Start_Create from '@salesforce/label/c.Didomi_Quick_Start_Create';
import Quick_Start_Done from '@salesforce/label/c.Didomi_Quick_Start_Done';
import Mapping_Attribute_Path from '@salesforce/label/c.Didomi_Mapping_Attribute_Path';
import Mapping_Data_Use_Purpose from '@salesforce/label/c.Didomi_Mapping_Data_Use_Purpose';
import Mapping_Contact_Point_Type from '@salesforce/label/c.Didomi_Mapping_Contact_Point_Type';
import Mapping_Field from '@salesforce/label/c.Didomi_Mapping_Field';
import Mapping_Field_Search from '@salesforce/label/c.Didomi_Mapping_Field_Search';
import Mapping_Field_None from '@salesforce/label/c.Didomi_Mapping_Field_None';
import Mapping_Invert from '@salesforce/label/c.Didomi_Mapping_Invert';
import Mapping_Value_Labels from '@salesforce/label/c.Didomi_Mapping_Value_Labels';
import Mapping_Regulation from '@salesforce/label/c.Didomi_Mapping_Regulation';
import Mapping_Saved from '@salesforce/label/c.Didomi_Mapping_Saved';
import Mapping_Deleted from '@salesforce/label/c.Didomi_Mapping_Deleted';
import Mapping_Required from '@salesforce/label/c.Didomi_Mapping_Required';
import Mapping_Incompatible from '@salesforce/label/c.Didomi_Mapping_Incompatible';
import Mapping_Unknown_Field from '@salesforce/label/c.Didomi_Mapping_Unknown_Field';
import Mapping_Duplicate_Field from '@salesforce/label/c.Didomi_Mapping_Duplicate_Field';
import Mapping_Duplicate_Source from '@salesforce/label/c.Didomi_Mapping_Duplicate_Source';
import Mapping_Bad_Labels from '@salesforce/label/c.Didomi_Mapping_Bad_Labels';
import Errors_Title from '@salesforce/label/c.Didomi_Errors_Title';
import Errors_Empty from '@salesforce/label/c.Didomi_Errors_Empty';
import Errors_Status_Filter from '@salesforce/label/c.Didomi_Errors_Status_Filter';
import Errors_All from '@salesforce/label/c.Didomi_Errors_All';
import Errors_Retry from '@salesforce/label/c.Didomi_Errors_Retry';
import Errors_Dismiss from '@salesforce/label/c.Didomi_Errors_Dismiss';
import Errors_Open_Record from '@salesforce/label/c.Didomi_Errors_Open_Record';
import Errors_Updated from '@salesforce/label/c.Didomi_Errors_Updated';
import Errors_Select_First from '@salesforce/label/c.Didomi_Errors_Select_First';
import Errors_Count from '@salesforce/label/c.Didomi_Errors_Count';
import Errors_Previous from '@salesforce/label/c.Didomi_Errors_Previous';
import Errors_Next from '@salesforce/label/c.Didomi_Errors_Next';
import Errors_Auto_Refresh from '@salesforce/label/c.Didomi_Errors_Auto_Refresh';
import Errors_Code_Filter from '@salesforce/label/c.Didomi_Errors_Code_Filter';
import Errors_Object_Filter from '@salesforce/label/c.Didomi_Errors_Object_Filter';
import Errors_From from '@salesforce/label/c.Didomi_Errors_From';
import Errors_To from '@salesforce/label/c.Didomi_Errors_To';
import Errors_Clear_Filters from '@salesforce/label/c.Didomi_Errors_Clear_Filters';
import Errors_Search from '@salesforce/label/c.Didomi_Errors_Search';
import Errors_Search_Help from '@salesforce/label/c.Didomi_Errors_Search_Help';
import Errors_By_Code from '@salesforce/label/c.Didomi_Errors_By_Code';
import Errors_Actions from '@salesforce/label/c.Didomi_Errors_Actions';
import Errors_No_Code from '@salesforce/label/c.Didomi_Errors_No_Code';
import Errors_Show_Code from '@salesforce/label/c.Didomi_Errors_Show_Code';
import Errors_Retry_All from '@salesforce/label/c.Didomi_Errors_Retry_All';
import Errors_Dismiss_All from '@salesforce/label/c.Didomi_Errors_Dismiss_All';
import Errors_Confirm_Retry from '@salesforce/label/c.Didomi_Errors_Confirm_Retry';
import Errors_Confirm_Dismiss from '@salesforce/label/c.Didomi_Errors_Confirm_Dismiss';
import Errors_Confirm from '@salesforce/label/c.Didomi_Errors_Confirm';
import Errors_Bulk_Sent from '@salesforce/label/c.Didomi_Errors_Bulk_Sent';
import Errors_Bulk_Pending from '@salesforce/label/c.Didomi_Errors_Bulk_Pending';
import Errors_Selected from '@salesforce/label/c.Didomi_Errors_Selected';
import Errors_Clear_Selection from '@salesforce/label/c.Didomi_Errors_Clear_Selection';
import Errors_Page from '@salesforce/label/c.Didomi_Errors_Page';
import Errors_Page_Size from '@salesforce/label/c.Didomi_Errors_Page_Size';
import Errors_Details from '@salesforce/label/c.Didomi_Errors_Details';
import Errors_Close from '@salesforce/label/c.Didomi_Errors_Close';
import Errors_Payload from '@salesforce/label/c.Didomi_Errors_Payload';
import Errors_Didomi_User from '@salesforce/label/c.Didomi_Errors_Didomi_User';
import Errors_Open_Failed_Record from '@salesforce/label/c.Didomi_Errors_Open_Failed_Record';
import Col_Record from '@salesforce/label/c.Didomi_Col_Record';
import Col_Count from '@salesforce/label/c.Didomi_Col_Count';
import Col_Number from '@salesforce/label/c.Didomi_Col_Number';
import Col_Code from '@salesforce/label/c.Didomi_Col_Code';
import Col_Message from '@salesforce/label/c.Didomi_Col_Message';
import Col_User from '@salesforce/label/c.Didomi_Col_User';
import Col_Object from '@salesforce/label/c.Didomi_Col_Object';
import Col_Attempts from '@salesforce/label/c.Didomi_Col_Attempts';
import Col_Last_Failed from '@salesforce/label/c.Didomi_Col_Last_Failed';
import Col_Status from '@salesforce/label/c.Didomi_Col_Status';
import Generic_Error from '@salesforce/label/c.Didomi_Generic_Error';
import Mapping_Edit from '@salesforce/label/c.Didomi_Mapping_Edit';
import Mapping_Active from '@salesforce/label/c.Didomi_Mapping_Active';
import Mapping_Inactive from '@salesforce/label/c.Didomi_Mapping_Inactive';

export const LABELS = {
  App_Title,
  Tab_Status,
  Tab_Targets,
  Tab_Errors,
  Refresh,
  Loading,
  Status_Title,
  Status_Empty,
  Status_Alive,
  Status_Stale,
  Status_Stale_Help,
  Status_Heartbeat,
  Status_Heartbeat_Age,
  Status_Synced_Today,
  Status_Failed_Today,
  Status_Accepted_Today,
  Status_Queue,
  Status_Api_Usage,
  Status_Api_Usage_Value,
  Status_Last_Error,
  Status_No_Error,
  Status_Instance,
  Status_Open_Dead_Letters,
  Status_Open_Queue,
  Status_Oldest_Pending,
  Status_Nothing_Pending,
  Status_Counts_As_Of,
  Targets_Title,
  Targets_Empty,
  Target_New,
  Target_Edit,
  Target_Manage_Mappings,
  Target_Object,
  Target_Active,
  Target_Upsert,
  Target_Match_Field,
  Target_Creation_Defaults,
  Target_Deletion,
  Target_Saved,
  Target_Duplicate,
  Target_Bad_Defaults,
  Target_Missing_Defaults,
  Target_Missing_Match,
  Target_Default_Help,
  Target_Mapping_Count,
  Target_No_Mappings,
  Import_Title,
  Import_Help,
  Import_Paste,
  Import_Placeholder,
  Import_Upload,
  Import_Check,
  Import_Widget_Id,
  Import_No_Value,
  Import_Unknown_Value,
  Import_Inverted,
  Import_Bad_Json,
  Import_Wrong_Type,
  Import_One_Object,
  Import_Unknown_Object,
  Import_Bad_Upsert,
  Import_No_Mappings,
  Import_No_Field,
  Import_Upsert_Needs_Defaults,
  Import_Ok,
  Import_Summary,
  Import_Existing_Target,
  Import_New_Target,
  Import_Button,
  Import_Done,
  Import_Didomi_Property,
  Import_As,
  Import_Result,
  Save,
  Cancel,
  Delete,
  Yes,
  No,
  Mappings_Title,
  Mappings_Empty,
  Mapping_New,
  Mapping_Kind,
  Mapping_Purpose_Id,
  Mapping_Preference_Id,
  Mapping_Value_Id,
  Mapping_Purpose_Help,
  Mapping_Preference_Help,
  Mapping_Value_Help,
  Mapping_Source,
  Mapping_Options,
  Mapping_Confirm_Delete,
  Quick_Start,
  Quick_Start_Help,
  Catalogue_Removed,
  Quick_Start_None,
  Quick_Start_Create,
  Quick_Start_Done,
  Mapping_Attribute_Path,
  Mapping_Data_Use_Purpose,
  Mapping_Contact_Point_Type,
  Mapping_Field,
  Mapping_Field_Search,
  Mapping_Field_None,
  Mapping_Invert,
  Mapping_Value_Labels,
  Mapping_Regulation,
  Mapping_Saved,
  Mapping_Deleted,
  Mapping_Required,
  Mapping_Incompatible,
  Mapping_Unknown_Field,
  Mapping_Duplicate_Field,
  Mapping_Duplicate_Source,
  Mapping_Bad_Labels,
  Errors_Title,
  Errors_Empty,
  Errors_Status_Filter,
  Errors_All,
  Errors_Retry,
  Errors_Dismiss,
  Errors_Open_Record,
  Errors_Updated,
  Errors_Select_First,
  Errors_Count,
  Errors_Previous,
  Errors_Next,
  Errors_Auto_Refresh,
  Errors_Code_Filter,
  Errors_Object_Filter,
  Errors_From,
  Errors_To,
  Errors_Clear_Filters,
  Errors_Search,
  Errors_Search_Help,
  Errors_By_Code,
  Errors_Actions,
  Errors_No_Code,
  Errors_Show_Code,
  Errors_Retry_All,
  Errors_Dismiss_All,
  Errors_Confirm_Retry,
  Errors_Confirm_Dismiss,
  Errors_Confirm,
  Errors_Bulk_Sent,
  Errors_Bulk_Pending,
  Errors_Selected,
  Errors_Clear_Selection,
  Errors_Page,
  Errors_Page_Size,
  Errors_Details,
  Errors_Close,
  Errors_Payload,
  Errors_Didomi_User,
  Errors_Open_Failed_Record,
  Col_Record,
  Col_Count,
  Col_Number,
  Col_Code,
  Col_Message,
  Col_User,
  Col_Object,
  Col_Attempts,
  Col_Last_Failed,
  Col_Status,
  Generic_Error,
  Mapping_Edit,
  Mapping_Active,
  Mapping_Inactive,
};

/** Fills {0}, {1}… placeholders, the way Salesforce's own labels are formatted. */
export function format(label: string, ...args: unknown[]): string {
  return label.replace(/\{(\d+)\}/g, (m, i) => (Number(i) < args.length ? String(args[Number(i)]) : m));
}
