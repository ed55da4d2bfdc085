//! EU notices in eForms (#25): the contract notice (notice subtype 16, open procedure under
//! directive 2014/24) of a tender whose procedure is formal, as UBL 2.3 XML of the eForms SDK
//! 1.15 in French. Its identifiers, schemes and code lists follow the SDK's French example
//! notices; the tests check every notice against the SDK's XSD and its business rules
//! (`complete-validation.sch`, through `tests/tools/eforms_check.py`).
//!
//! This module writes the notice from plain data ([`ContractNotice`]); gathering that data from
//! a tender is the caller's.

use chrono::{NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};

/// The SDK the notices follow.
pub const SDK: &str = "eforms-sdk-1.15";

/// A buyer of the joint procurement (the coordinator leads the group).
#[derive(Debug, Clone)]
pub struct Buyer {
    pub code: String,
    pub name: String,
    /// SIRET (14 digits) or SIREN; the organisation's legal identifier (BT-501).
    pub legal_id: String,
    /// `hospital`, `university`, `housing_office`, `local_authority`, …
    pub kind: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub email: String,
    pub phone: String,
    pub website: String,
    /// The group's lead (OPP-050): the tender's coordinator.
    pub lead: bool,
}

/// A lot of the notice.
#[derive(Debug, Clone)]
pub struct NoticeLot {
    pub number: u32,
    pub title: String,
    /// 8 digits, as the CPV list writes it (no check digit).
    pub cpv: String,
    pub value_cents: i64,
    /// The delivery postcodes of its needs (their NUTS 3 regions are its places of performance).
    pub postcodes: Vec<String>,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// What a contract notice says.
#[derive(Debug, Clone)]
pub struct ContractNotice {
    /// The tender's reference (`GRP-2027-001`): the procedure's internal identifier.
    pub reference: String,
    pub title: String,
    pub description: String,
    pub buyers: Vec<Buyer>,
    pub lots: Vec<NoticeLot>,
    /// Award criteria weights, in percent (price, quality, environment).
    pub weights: (i32, i32, i32),
    /// The most lots one supplier may win (BT-33), when announced.
    pub max_lots_per_supplier: Option<i32>,
    /// The deadline for bids, UTC.
    pub deadline: NaiveDateTime,
    /// When the notice is sent, UTC.
    pub issued: NaiveDateTime,
    /// The consultation file (DCE) on Groupement, and where bids are submitted.
    pub documents_url: String,
    pub submission_url: String,
    /// A change notice refers to the notice it changes and carries the next version.
    pub version: u32,
    /// The review body ([`dijon_court`]).
    pub review_body: Buyer,
    /// For a change notice (*rectificatif*): what changed and the notice it changes.
    pub change: Option<NoticeChange>,
}

/// What a change notice says besides the notice it repeats, changed.
#[derive(Debug, Clone)]
pub struct NoticeChange {
    /// The tender's change it announces (1 for the first).
    pub number: u32,
    /// The notice it changes: its identifier (BT-701) and version (BT-757).
    pub changed_notice_id: String,
    pub changed_version: u32,
    /// What changes, for the companies (BT-141).
    pub description: String,
    /// Whether documents of the consultation file were added or replaced (BT-718), and when.
    pub documents_changed: Option<NaiveDate>,
}

/// The identifier (BT-701) of a tender's contract notice, or of its `change`-th change notice:
/// derived from the reference, the same in every export.
pub fn notice_id(reference: &str, change: Option<u32>) -> String {
    match change {
        None => uuid_of(&format!("notice:{reference}:1")),
        Some(k) => uuid_of(&format!("notice:{reference}:change:{k}")),
    }
}

/// The identifier of a tender's award notice.
pub fn award_notice_id(reference: &str) -> String {
    uuid_of(&format!("notice:{reference}:award"))
}

/// The review body (BT-500 and the rest of its organisation): the administrative court of
/// Dijon, whose legal identifier (BT-501, mandatory for every organisation of a notice) the
/// platform's settings give.
pub fn dijon_court(legal_id: &str) -> Buyer {
    Buyer {
        code: "TA-DIJON".into(),
        name: "Tribunal administratif de Dijon".into(),
        legal_id: legal_id.into(),
        kind: "review_body".into(),
        street: "22 rue d'Assas".into(),
        postcode: "21000".into(),
        city: "Dijon".into(),
        email: "greffe.ta-dijon@juradm.fr".into(),
        phone: String::new(),
        website: "https://dijon.tribunal-administratif.fr".into(),
        lead: false,
    }
}

/// The NUTS 3 region (2021) of a French department.
pub fn nuts_of_department(department: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        ("01", "FRK21"),
        ("02", "FRE21"),
        ("03", "FRK11"),
        ("04", "FRL01"),
        ("05", "FRL02"),
        ("06", "FRL03"),
        ("07", "FRK22"),
        ("08", "FRF21"),
        ("09", "FRJ21"),
        ("10", "FRF22"),
        ("11", "FRJ11"),
        ("12", "FRJ22"),
        ("13", "FRL04"),
        ("14", "FRD11"),
        ("15", "FRK12"),
        ("16", "FRI31"),
        ("17", "FRI32"),
        ("18", "FRB01"),
        ("19", "FRI21"),
        ("21", "FRC11"),
        ("22", "FRH01"),
        ("23", "FRI22"),
        ("24", "FRI11"),
        ("25", "FRC21"),
        ("26", "FRK23"),
        ("27", "FRD21"),
        ("28", "FRB02"),
        ("29", "FRH02"),
        ("2A", "FRM01"),
        ("2B", "FRM02"),
        ("30", "FRJ12"),
        ("31", "FRJ23"),
        ("32", "FRJ24"),
        ("33", "FRI12"),
        ("34", "FRJ13"),
        ("35", "FRH03"),
        ("36", "FRB03"),
        ("37", "FRB04"),
        ("38", "FRK24"),
        ("39", "FRC22"),
        ("40", "FRI13"),
        ("41", "FRB05"),
        ("42", "FRK25"),
        ("43", "FRK13"),
        ("44", "FRG01"),
        ("45", "FRB06"),
        ("46", "FRJ25"),
        ("47", "FRI14"),
        ("48", "FRJ14"),
        ("49", "FRG02"),
        ("50", "FRD12"),
        ("51", "FRF23"),
        ("52", "FRF24"),
        ("53", "FRG03"),
        ("54", "FRF31"),
        ("55", "FRF32"),
        ("56", "FRH04"),
        ("57", "FRF33"),
        ("58", "FRC12"),
        ("59", "FRE11"),
        ("60", "FRE22"),
        ("61", "FRD13"),
        ("62", "FRE12"),
        ("63", "FRK14"),
        ("64", "FRI15"),
        ("65", "FRJ26"),
        ("66", "FRJ15"),
        ("67", "FRF11"),
        ("68", "FRF12"),
        ("69", "FRK26"),
        ("70", "FRC23"),
        ("71", "FRC13"),
        ("72", "FRG04"),
        ("73", "FRK27"),
        ("74", "FRK28"),
        ("75", "FR101"),
        ("76", "FRD22"),
        ("77", "FR102"),
        ("78", "FR103"),
        ("79", "FRI33"),
        ("80", "FRE23"),
        ("81", "FRJ27"),
        ("82", "FRJ28"),
        ("83", "FRL05"),
        ("84", "FRL06"),
        ("85", "FRG05"),
        ("86", "FRI34"),
        ("87", "FRI23"),
        ("88", "FRF34"),
        ("89", "FRC14"),
        ("90", "FRC24"),
        ("91", "FR104"),
        ("92", "FR105"),
        ("93", "FR106"),
        ("94", "FR107"),
        ("95", "FR108"),
        ("971", "FRY10"),
        ("972", "FRY20"),
        ("973", "FRY30"),
        ("974", "FRY40"),
        ("976", "FRY50"),
    ];
    TABLE
        .iter()
        .find(|(d, _)| *d == department)
        .map(|(_, nuts)| *nuts)
}

/// The NUTS 3 region of a postcode (`FRC11` for 21000).
pub fn nuts_of_postcode(postcode: &str) -> Option<&'static str> {
    let department = match postcode.get(..2) {
        Some("97") => postcode.get(..3).unwrap_or_default().to_string(),
        _ => crate::domain::department_of(postcode),
    };
    nuts_of_department(&department)
}

/// A UUID (version 4 layout) derived from `seed`: the same tender gets the same identifiers in
/// every export.
pub fn uuid_of(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    super::espd::uuid_text(b)
}

/// Escapes text for XML.
fn x(text: &str) -> String {
    crate::web::charts::xml(text)
}

/// The buyer legal type (BT-11) and main activity (BT-10) of an organisation's kind.
fn legal_type_and_activity(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "hospital" => ("body-pl", "health"),
        "university" => ("body-pl", "education"),
        "social_housing" | "housing_office" => ("body-pl-la", "hc-am"),
        "state" => ("cga", "gen-pub"),
        "local_authority" => ("la", "gen-pub"),
        _ => ("body-pl", "gen-pub"),
    }
}

/// The contract nature (BT-23) of a CPV code.
fn nature(cpv: &str) -> &'static str {
    match cpv.get(..2).and_then(|d| d.parse::<u32>().ok()) {
        Some(45) => "works",
        Some(d) if d >= 50 => "services",
        _ => "supplies",
    }
}

fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A date and a time of the notice, in UTC as eForms writes them.
fn date(d: NaiveDate) -> String {
    format!("{}Z", d.format("%Y-%m-%d"))
}

fn time(t: NaiveDateTime) -> String {
    format!("{}Z", t.format("%H:%M:%S"))
}

fn organisation_id(k: usize) -> String {
    format!("ORG-{:04}", k + 1)
}

/// The notice's XML.
pub fn contract_notice_xml(n: &ContractNotice) -> String {
    let mut o = String::with_capacity(8_192 + 6_000 * n.lots.len());
    open_root(&mut o, "ContractNotice");
    // The organisations: the buyers (the lead first), then the review body.
    let review = n.buyers.len();
    o.push_str(
        "<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><efext:EformsExtension>\n",
    );
    if let Some(change) = &n.change {
        o.push_str(&format!(
            "<efac:Changes><efbc:ChangedNoticeIdentifier>{}-{:02}</efbc:ChangedNoticeIdentifier><efac:Change><efbc:ChangeDescription languageID=\"FRA\">{}</efbc:ChangeDescription>{}</efac:Change><efac:ChangeReason><cbc:ReasonCode listName=\"change-corrig-justification\">update-add</cbc:ReasonCode><efbc:ReasonDescription languageID=\"FRA\">Rectificatif n° {} de la consultation {} publié par l'acheteur.</efbc:ReasonDescription></efac:ChangeReason></efac:Changes>\n",
            change.changed_notice_id,
            change.changed_version,
            x(&change.description),
            match change.documents_changed {
                Some(day) => format!("<efbc:ProcurementDocumentsChangeDate>{}</efbc:ProcurementDocumentsChangeDate><efbc:ProcurementDocumentsChangeIndicator>true</efbc:ProcurementDocumentsChangeIndicator>", date(day)),
                None => "<efbc:ProcurementDocumentsChangeIndicator>false</efbc:ProcurementDocumentsChangeIndicator>".into(),
            } + &n
                .lots
                .iter()
                .map(|l| format!("<efac:ChangedSection><efbc:ChangedSectionIdentifier>LOT-{:04}</efbc:ChangedSectionIdentifier></efac:ChangedSection>", l.number))
                .collect::<String>(),
            change.number,
            x(&n.reference),
        ));
    }
    o.push_str("<efac:NoticeSubType><cbc:SubTypeCode listName=\"notice-subtype\">16</cbc:SubTypeCode></efac:NoticeSubType>\n");
    organisations(&mut o, &n.buyers, &n.review_body, &[], &[]);
    o.push_str(
        "</efext:EformsExtension></ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>\n",
    );
    o.push_str(&format!(
        "<cbc:UBLVersionID>2.3</cbc:UBLVersionID><cbc:CustomizationID>{SDK}</cbc:CustomizationID>\n"
    ));
    let id = notice_id(&n.reference, n.change.as_ref().map(|c| c.number));
    header(
        &mut o,
        &id,
        &n.reference,
        n.issued,
        n.version,
        "competition",
        "cn-standard",
    );
    contracting_parties(&mut o, &n.buyers);
    // Procedure level: exclusion grounds in the consultation file, the lots cap.
    o.push_str("<cac:TenderingTerms><cac:TendererQualificationRequest><cac:SpecificTendererRequirement><cbc:TendererRequirementTypeCode listName=\"exclusion-grounds-source\">epo-procurement-document</cbc:TendererRequirementTypeCode></cac:SpecificTendererRequirement></cac:TendererQualificationRequest>");
    if let Some(cap) = n.max_lots_per_supplier.filter(|_| n.lots.len() > 1) {
        o.push_str(&format!(
            "<cac:LotDistribution><cbc:MaximumLotsAwardedNumeric>{cap}</cbc:MaximumLotsAwardedNumeric><cbc:MaximumLotsSubmittedNumeric>{}</cbc:MaximumLotsSubmittedNumeric></cac:LotDistribution>",
            n.lots.len()
        ));
    }
    o.push_str("</cac:TenderingTerms>\n");
    o.push_str("<cac:TenderingProcess><cbc:ProcedureCode listName=\"procurement-procedure-type\">open</cbc:ProcedureCode><cac:ProcessJustification><cbc:ProcessReasonCode listName=\"accelerated-procedure\">false</cbc:ProcessReasonCode></cac:ProcessJustification></cac:TenderingProcess>\n");
    let main_cpv = n.lots.first().map(|l| l.cpv.as_str()).unwrap_or("00000000");
    o.push_str(&format!(
        "<cac:ProcurementProject><cbc:ID schemeName=\"InternalID\">{}</cbc:ID><cbc:Name languageID=\"FRA\">{}</cbc:Name><cbc:Description languageID=\"FRA\">{}</cbc:Description><cbc:ProcurementTypeCode listName=\"contract-nature\">{}</cbc:ProcurementTypeCode><cac:MainCommodityClassification><cbc:ItemClassificationCode listName=\"cpv\">{main_cpv}</cbc:ItemClassificationCode></cac:MainCommodityClassification>{}</cac:ProcurementProject>\n",
        x(&n.reference),
        x(&n.title),
        x(&n.description),
        nature(main_cpv),
        places(&mut n.lots.iter().flat_map(|l| &l.postcodes)),
    ));
    for lot in &n.lots {
        o.push_str(&format!(
            "<cac:ProcurementProjectLot><cbc:ID schemeName=\"Lot\">LOT-{:04}</cbc:ID>\n",
            lot.number
        ));
        o.push_str("<cac:TenderingTerms>");
        o.push_str(
            "<cbc:FundingProgramCode listName=\"eu-funded\">no-eu-funds</cbc:FundingProgramCode>",
        );
        o.push_str(&format!(
            "<cac:CallForTendersDocumentReference><cbc:ID>DCE-{}</cbc:ID><cbc:DocumentType>non-restricted-document</cbc:DocumentType><cac:Attachment><cac:ExternalReference><cbc:URI>{}</cbc:URI></cac:ExternalReference></cac:Attachment></cac:CallForTendersDocumentReference>",
            x(&n.reference),
            x(&n.documents_url)
        ));
        o.push_str("<cac:TendererQualificationRequest><cac:SpecificTendererRequirement><cbc:TendererRequirementTypeCode listName=\"reserved-procurement\">none</cbc:TendererRequirementTypeCode></cac:SpecificTendererRequirement></cac:TendererQualificationRequest>");
        o.push_str("<cac:TendererQualificationRequest><cac:SpecificTendererRequirement><cbc:TendererRequirementTypeCode listName=\"selection-criteria-source\">epo-procurement-document</cbc:TendererRequirementTypeCode></cac:SpecificTendererRequirement></cac:TendererQualificationRequest>");
        o.push_str("<cac:ContractExecutionRequirement><cbc:ExecutionRequirementCode listName=\"reserved-execution\">no</cbc:ExecutionRequirementCode></cac:ContractExecutionRequirement>");
        o.push_str("<cac:ContractExecutionRequirement><cbc:ExecutionRequirementCode listName=\"einvoicing\">allowed</cbc:ExecutionRequirementCode></cac:ContractExecutionRequirement>");
        o.push_str("<cac:ContractExecutionRequirement><cbc:ExecutionRequirementCode listName=\"ecatalog-submission\">not-allowed</cbc:ExecutionRequirementCode></cac:ContractExecutionRequirement>");
        o.push_str(&awarding_terms(n.weights));
        o.push_str(&format!(
            "<cac:TenderRecipientParty><cbc:EndpointID>{}</cbc:EndpointID><cac:PartyIdentification><cbc:ID schemeName=\"organization\">{}</cbc:ID></cac:PartyIdentification></cac:TenderRecipientParty>",
            x(&n.submission_url),
            organisation_id(0)
        ));
        o.push_str("<cac:TenderValidityPeriod><cbc:DurationMeasure unitCode=\"MONTH\">4</cbc:DurationMeasure></cac:TenderValidityPeriod>");
        o.push_str(&format!(
            "<cac:AppealTerms><cac:PresentationPeriod><cbc:Description languageID=\"FRA\">{APPEAL}</cbc:Description></cac:PresentationPeriod><cac:AppealReceiverParty><cac:PartyIdentification><cbc:ID schemeName=\"organization\">{}</cbc:ID></cac:PartyIdentification></cac:AppealReceiverParty></cac:AppealTerms>",
            organisation_id(review)
        ));
        o.push_str("<cac:Language><cbc:ID>FRA</cbc:ID></cac:Language>");
        o.push_str("<cac:PostAwardProcess><cbc:ElectronicOrderUsageIndicator>false</cbc:ElectronicOrderUsageIndicator><cbc:ElectronicPaymentUsageIndicator>true</cbc:ElectronicPaymentUsageIndicator></cac:PostAwardProcess>");
        o.push_str("</cac:TenderingTerms>\n");
        o.push_str(&format!(
            "<cac:TenderingProcess><cbc:SubmissionMethodCode listName=\"esubmission\">required</cbc:SubmissionMethodCode><cbc:GovernmentAgreementConstraintIndicator>true</cbc:GovernmentAgreementConstraintIndicator><cac:TenderSubmissionDeadlinePeriod><cbc:EndDate>{}</cbc:EndDate><cbc:EndTime>{}</cbc:EndTime></cac:TenderSubmissionDeadlinePeriod><cac:AuctionTerms><cbc:AuctionConstraintIndicator>false</cbc:AuctionConstraintIndicator></cac:AuctionTerms><cac:ContractingSystem><cbc:ContractingSystemTypeCode listName=\"framework-agreement\">none</cbc:ContractingSystemTypeCode></cac:ContractingSystem><cac:ContractingSystem><cbc:ContractingSystemTypeCode listName=\"dps-usage\">none</cbc:ContractingSystemTypeCode></cac:ContractingSystem></cac:TenderingProcess>\n",
            date(n.deadline.date()),
            time(n.deadline)
        ));
        let strategic = strategic(n.weights.2);
        o.push_str(&format!(
            "<cac:ProcurementProject><cbc:ID schemeName=\"InternalID\">{}-{}</cbc:ID><cbc:Name languageID=\"FRA\">{}</cbc:Name><cbc:Description languageID=\"FRA\">{}</cbc:Description><cbc:ProcurementTypeCode listName=\"contract-nature\">{}</cbc:ProcurementTypeCode>{strategic}<cac:RequestedTenderTotal><cbc:EstimatedOverallContractAmount currencyID=\"EUR\">{}</cbc:EstimatedOverallContractAmount></cac:RequestedTenderTotal><cac:MainCommodityClassification><cbc:ItemClassificationCode listName=\"cpv\">{}</cbc:ItemClassificationCode></cac:MainCommodityClassification>{}<cac:PlannedPeriod><cbc:StartDate>{}</cbc:StartDate><cbc:EndDate>{}</cbc:EndDate></cac:PlannedPeriod></cac:ProcurementProject>\n",
            x(&n.reference),
            lot.number,
            x(&lot.title),
            x(&lot.title),
            nature(&lot.cpv),
            amount(lot.value_cents),
            lot.cpv,
            places(&mut lot.postcodes.iter()),
            date(lot.start),
            date(lot.end),
        ));
        o.push_str("</cac:ProcurementProjectLot>\n");
    }
    o.push_str("</ContractNotice>\n");
    o
}

/// The XML declaration and the notice's root element with the UBL and eForms namespaces.
fn open_root(o: &mut String, root: &str) {
    o.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:{root}-2\" \
         xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\" \
         xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\" \
         xmlns:ext=\"urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2\" \
         xmlns:efac=\"http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1\" \
         xmlns:efbc=\"http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1\" \
         xmlns:efext=\"http://data.europa.eu/p27/eforms-ubl-extensions/1\">\n"
    ));
}

/// The places of performance (BT-5071, NUTS 3) of some delivery postcodes, each once.
fn places(postcodes: &mut dyn Iterator<Item = &String>) -> String {
    let mut nuts: Vec<&str> = postcodes.filter_map(|p| nuts_of_postcode(p)).collect();
    nuts.sort_unstable();
    nuts.dedup();
    if nuts.is_empty() {
        nuts.push("FRC11");
    }
    nuts.iter()
        .map(|code| {
            format!(
                "<cac:RealizedLocation><cac:Address><cbc:CountrySubentityCode listName=\"nuts\">{code}</cbc:CountrySubentityCode><cac:Country><cbc:IdentificationCode listName=\"country\">FRA</cbc:IdentificationCode></cac:Country></cac:Address></cac:RealizedLocation>"
            )
        })
        .collect()
}

/// The organisation id of co-contractor `j` of tenderer `k`: after the buyers, the review body
/// and every tenderer, the partners in order.
fn partner_id(buyers: usize, tenderers: &[Tenderer], k: usize, j: usize) -> String {
    let before: usize = tenderers[..k].iter().map(|t| t.partners.len()).sum();
    organisation_id(buyers + 1 + tenderers.len() + before + j)
}

/// The organisations of a notice: the buyers (`ORG-0001`… in their order, the group's lead
/// flagged), the review body after them, then the tenderers.
fn organisations(
    o: &mut String,
    buyers: &[Buyer],
    court: &Buyer,
    tenderers: &[Tenderer],
    winners: &[usize],
) {
    o.push_str("<efac:Organizations>\n");
    let joint = buyers.len() > 1;
    for (k, b) in buyers.iter().enumerate() {
        o.push_str("<efac:Organization>");
        if joint {
            o.push_str(&format!(
                "<efbc:GroupLeadIndicator>{}</efbc:GroupLeadIndicator>",
                b.lead
            ));
        }
        o.push_str("<efac:Company>");
        if !b.website.is_empty() {
            o.push_str(&format!(
                "<cbc:WebsiteURI>{}</cbc:WebsiteURI>",
                x(&b.website)
            ));
        }
        o.push_str(&company(
            &organisation_id(k),
            &b.name,
            &b.street,
            &b.postcode,
            &b.city,
            &b.legal_id,
            &b.phone,
            &b.email,
        ));
        o.push_str("</efac:Company></efac:Organization>\n");
    }
    o.push_str(&format!(
        "<efac:Organization><efac:Company><cbc:WebsiteURI>{}</cbc:WebsiteURI>{}</efac:Company></efac:Organization>\n",
        x(&court.website),
        company(
            &organisation_id(buyers.len()),
            &court.name,
            &court.street,
            &court.postcode,
            &court.city,
            &court.legal_id,
            &court.phone,
            &court.email
        )
    ));
    let tenderer_organisation = |o: &mut String, id: String, t: &Tenderer| {
        o.push_str(&format!(
            "<efac:Organization><efac:Company><efbc:CompanySizeCode listName=\"economic-operator-size\">{}</efbc:CompanySizeCode>{}</efac:Company></efac:Organization>\n",
            if t.sme { "sme" } else { "large" },
            company(&id, &t.name, "", &t.postcode, &t.city, &t.siret, &t.phone, &t.email)
        ));
    };
    for (k, t) in tenderers
        .iter()
        .enumerate()
        .filter(|(k, _)| winners.contains(k))
    {
        tenderer_organisation(o, organisation_id(buyers.len() + 1 + k), t);
    }
    for &k in winners {
        for (j, partner) in tenderers[k].partners.iter().enumerate() {
            tenderer_organisation(o, partner_id(buyers.len(), tenderers, k, j), partner);
        }
    }
    o.push_str("</efac:Organizations>\n");
}

/// The notice's identification: SDK, identifier and version, procedure, date, kind, language.
fn header(
    o: &mut String,
    id: &str,
    reference: &str,
    issued: NaiveDateTime,
    version: u32,
    form: &str,
    kind: &str,
) {
    o.push_str(&format!("<cbc:ID schemeName=\"notice-id\">{id}</cbc:ID>\n"));
    o.push_str(&format!(
        "<cbc:ContractFolderID>{}</cbc:ContractFolderID>\n",
        uuid_of(&format!("procedure:{reference}"))
    ));
    o.push_str(&format!(
        "<cbc:IssueDate>{}</cbc:IssueDate><cbc:IssueTime>{}</cbc:IssueTime>\n",
        date(issued.date()),
        time(issued)
    ));
    o.push_str(&format!(
        "<cbc:VersionID>{version:02}</cbc:VersionID>\n<cbc:RegulatoryDomain>32014L0024</cbc:RegulatoryDomain>\n"
    ));
    o.push_str(&format!(
        "<cbc:NoticeTypeCode listName=\"{form}\">{kind}</cbc:NoticeTypeCode>\n"
    ));
    o.push_str("<cbc:NoticeLanguageCode>FRA</cbc:NoticeLanguageCode>\n");
}

/// Each buyer as a contracting party: legal type, activity, its organisation.
fn contracting_parties(o: &mut String, buyers: &[Buyer]) {
    for (k, b) in buyers.iter().enumerate() {
        let (legal, activity) = legal_type_and_activity(&b.kind);
        o.push_str(&format!(
            "<cac:ContractingParty><cac:ContractingPartyType><cbc:PartyTypeCode listName=\"buyer-legal-type\">{legal}</cbc:PartyTypeCode></cac:ContractingPartyType>\
             <cac:ContractingActivity><cbc:ActivityTypeCode listName=\"authority-activity\">{activity}</cbc:ActivityTypeCode></cac:ContractingActivity>\
             <cac:Party><cac:PartyIdentification><cbc:ID schemeName=\"organization\">{}</cbc:ID></cac:PartyIdentification></cac:Party></cac:ContractingParty>\n",
            organisation_id(k)
        ));
    }
}

/// A company that bid (a winner of the award notice).
#[derive(Debug, Clone)]
pub struct Tenderer {
    pub name: String,
    pub siret: String,
    pub postcode: String,
    pub city: String,
    pub email: String,
    pub phone: String,
    pub sme: bool,
    /// A group of companies (#24): its co-contractors, this company leading the group.
    pub partners: Vec<Tenderer>,
}

/// A contract signed for a lot with one member (each member signs its own share). The notice
/// gives one contract per lot (eForms allows several only under a framework agreement), the
/// members being its signatories, concluded when the last of them signed.
#[derive(Debug, Clone)]
pub struct AwardContract {
    /// The member's index in [`AwardNotice::buyers`].
    pub buyer: usize,
    /// Signed on (or, until then, the earliest day it may be).
    pub concluded: NaiveDate,
}

/// What became of a lot.
#[derive(Debug, Clone)]
pub enum LotOutcome {
    /// Won by the tenderer of index `winner` in [`AwardNotice::tenderers`].
    Awarded {
        winner: usize,
        amount_cents: i64,
        /// The highest and lowest prices of the bids admitted.
        highest_cents: i64,
        lowest_cents: i64,
        contracts: Vec<AwardContract>,
    },
    /// No winner: `no-rece` (no bid received) or `all-rej` (every bid rejected).
    Unsuccessful { reason: &'static str },
}

/// A lot of the award notice.
#[derive(Debug, Clone)]
pub struct AwardLot {
    pub lot: NoticeLot,
    pub bids: u32,
    pub sme_bids: u32,
    pub outcome: LotOutcome,
}

/// What a contract award notice (subtype 29) says.
#[derive(Debug, Clone)]
pub struct AwardNotice {
    pub reference: String,
    pub title: String,
    pub description: String,
    pub buyers: Vec<Buyer>,
    pub review_body: Buyer,
    pub tenderers: Vec<Tenderer>,
    pub lots: Vec<AwardLot>,
    /// Award criteria weights, in percent (price, quality, environment).
    pub weights: (i32, i32, i32),
    /// The day the award was decided (BT-1451 of each winner's contract).
    pub awarded: NaiveDate,
    pub issued: NaiveDateTime,
    /// The contract notice of the procedure (BT-125), when there was one.
    pub contract_notice_id: Option<String>,
}

/// The award notice's XML.
pub fn award_notice_xml(n: &AwardNotice) -> String {
    let mut o = String::with_capacity(8_192 + 6_000 * n.lots.len());
    open_root(&mut o, "ContractAwardNotice");
    o.push_str(
        "<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><efext:EformsExtension>\n",
    );
    let tenderer_org = |k: usize| organisation_id(n.buyers.len() + 1 + k);
    let partner_org = |k: usize, j: usize| partner_id(n.buyers.len(), &n.tenderers, k, j);
    // The results: per lot its result, the winning tender, the contracts per member.
    let total: i64 = n
        .lots
        .iter()
        .map(|l| match &l.outcome {
            LotOutcome::Awarded { amount_cents, .. } => *amount_cents,
            LotOutcome::Unsuccessful { .. } => 0,
        })
        .sum();
    o.push_str(&format!(
        "<efac:NoticeResult><cbc:TotalAmount currencyID=\"EUR\">{}</cbc:TotalAmount>\n",
        amount(total)
    ));
    // Every bid is French and electronic (Groupement takes no other): none from another
    // country of the EEA or outside it.
    let statistics = |l: &AwardLot| -> String {
        [
            ("tenders", l.bids),
            ("t-sme", l.sme_bids),
            ("t-large", l.bids.saturating_sub(l.sme_bids)),
            ("t-oth-eea", 0),
            ("t-no-eea", 0),
            ("t-esubm", l.bids),
        ]
            .iter()
            .map(|(code, count)| format!("<efac:ReceivedSubmissionsStatistics><efbc:StatisticsCode listName=\"received-submission-type\">{code}</efbc:StatisticsCode><efbc:StatisticsNumeric>{count}</efbc:StatisticsNumeric></efac:ReceivedSubmissionsStatistics>"))
            .collect()
    };
    for l in &n.lots {
        let number = l.lot.number;
        match &l.outcome {
            LotOutcome::Awarded {
                highest_cents,
                lowest_cents,
                contracts,
                ..
            } => {
                o.push_str(&format!(
                    "<efac:LotResult><cbc:ID schemeName=\"result\">RES-{number:04}</cbc:ID><cbc:HigherTenderAmount currencyID=\"EUR\">{}</cbc:HigherTenderAmount><cbc:LowerTenderAmount currencyID=\"EUR\">{}</cbc:LowerTenderAmount><cbc:TenderResultCode listName=\"winner-selection-status\">selec-w</cbc:TenderResultCode><efac:LotTender><cbc:ID schemeName=\"tender\">TEN-{number:04}</cbc:ID></efac:LotTender>{}",
                    amount(*highest_cents),
                    amount(*lowest_cents),
                    statistics(l)
                ));
                if !contracts.is_empty() {
                    o.push_str(&format!(
                        "<efac:SettledContract><cbc:ID schemeName=\"contract\">CON-{number:04}</cbc:ID></efac:SettledContract>"
                    ));
                }
                o.push_str(&format!(
                    "<efac:TenderLot><cbc:ID schemeName=\"Lot\">LOT-{number:04}</cbc:ID></efac:TenderLot></efac:LotResult>\n"
                ));
            }
            LotOutcome::Unsuccessful { reason } => {
                o.push_str(&format!(
                    "<efac:LotResult><cbc:ID schemeName=\"result\">RES-{number:04}</cbc:ID><cbc:TenderResultCode listName=\"winner-selection-status\">clos-nw</cbc:TenderResultCode><efac:DecisionReason><efbc:DecisionReasonCode listName=\"non-award-justification\">{reason}</efbc:DecisionReasonCode></efac:DecisionReason>{}<efac:TenderLot><cbc:ID schemeName=\"Lot\">LOT-{number:04}</cbc:ID></efac:TenderLot></efac:LotResult>\n",
                    // No bid received: nothing to count.
                    match *reason {
                        "no-rece" => String::new(),
                        _ => statistics(l),
                    }
                ));
            }
        }
    }
    for l in &n.lots {
        if let LotOutcome::Awarded {
            winner,
            amount_cents,
            ..
        } = &l.outcome
        {
            let number = l.lot.number;
            o.push_str(&format!(
                "<efac:LotTender><cbc:ID schemeName=\"tender\">TEN-{number:04}</cbc:ID><cbc:RankCode>1</cbc:RankCode><efbc:TenderRankedIndicator>true</efbc:TenderRankedIndicator><cac:LegalMonetaryTotal><cbc:PayableAmount currencyID=\"EUR\">{}</cbc:PayableAmount></cac:LegalMonetaryTotal><efac:SubcontractingTerm><efbc:TermCode listName=\"applicability\">no</efbc:TermCode></efac:SubcontractingTerm><efac:TenderingParty><cbc:ID schemeName=\"tendering-party\">TPA-{:04}</cbc:ID></efac:TenderingParty><efac:TenderLot><cbc:ID schemeName=\"Lot\">LOT-{number:04}</cbc:ID></efac:TenderLot><efac:TenderReference><cbc:ID>{}-{number:02}</cbc:ID></efac:TenderReference></efac:LotTender>\n",
                amount(*amount_cents),
                winner + 1,
                x(&n.reference),
            ));
        }
    }
    for l in &n.lots {
        if let LotOutcome::Awarded { contracts, .. } = &l.outcome {
            let number = l.lot.number;
            // One contract per lot (eForms allows several per lot only for framework
            // agreements), signed by each member with a share of it.
            let Some(concluded) = contracts.iter().map(|c| c.concluded).max() else {
                continue;
            };
            let mut signatories: Vec<usize> = contracts.iter().map(|c| c.buyer).collect();
            signatories.sort_unstable();
            signatories.dedup();
            o.push_str(&format!(
                "<efac:SettledContract><cbc:ID schemeName=\"contract\">CON-{number:04}</cbc:ID><cbc:AwardDate>{}</cbc:AwardDate><cbc:IssueDate>{}</cbc:IssueDate>{}<efac:ContractReference><cbc:ID>{}-{number:02}</cbc:ID></efac:ContractReference><efac:LotTender><cbc:ID schemeName=\"tender\">TEN-{number:04}</cbc:ID></efac:LotTender></efac:SettledContract>\n",
                date(n.awarded),
                date(concluded),
                signatories
                    .iter()
                    .map(|b| format!("<cac:SignatoryParty><cac:PartyIdentification><cbc:ID schemeName=\"organization\">{}</cbc:ID></cac:PartyIdentification></cac:SignatoryParty>", organisation_id(*b)))
                    .collect::<String>(),
                x(&n.reference),
            ));
        }
    }
    let mut winners: Vec<usize> = n
        .lots
        .iter()
        .filter_map(|l| match &l.outcome {
            LotOutcome::Awarded { winner, .. } => Some(*winner),
            LotOutcome::Unsuccessful { .. } => None,
        })
        .collect();
    winners.sort_unstable();
    winners.dedup();
    for &k in &winners {
        // A group: each of its companies a tenderer, the representative leading it (OPT-170,
        // present only when the party has several tenderers).
        let partners = &n.tenderers[k].partners;
        let lead = match partners.is_empty() {
            true => String::new(),
            false => "<efbc:GroupLeadIndicator>true</efbc:GroupLeadIndicator>".into(),
        };
        o.push_str(&format!(
            "<efac:TenderingParty><cbc:ID schemeName=\"tendering-party\">TPA-{:04}</cbc:ID><efac:Tenderer><cbc:ID schemeName=\"organization\">{}</cbc:ID>{lead}</efac:Tenderer>",
            k + 1,
            tenderer_org(k)
        ));
        for j in 0..partners.len() {
            o.push_str(&format!(
                "<efac:Tenderer><cbc:ID schemeName=\"organization\">{}</cbc:ID><efbc:GroupLeadIndicator>false</efbc:GroupLeadIndicator></efac:Tenderer>",
                partner_org(k, j)
            ));
        }
        o.push_str("</efac:TenderingParty>\n");
    }
    o.push_str("</efac:NoticeResult>\n");
    o.push_str("<efac:NoticeSubType><cbc:SubTypeCode listName=\"notice-subtype\">29</cbc:SubTypeCode></efac:NoticeSubType>\n");
    organisations(&mut o, &n.buyers, &n.review_body, &n.tenderers, &winners);
    o.push_str(
        "</efext:EformsExtension></ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>\n",
    );
    o.push_str(&format!(
        "<cbc:UBLVersionID>2.3</cbc:UBLVersionID><cbc:CustomizationID>{SDK}</cbc:CustomizationID>\n"
    ));
    header(
        &mut o,
        &award_notice_id(&n.reference),
        &n.reference,
        n.issued,
        1,
        "result",
        "can-standard",
    );
    contracting_parties(&mut o, &n.buyers);
    o.push_str("<cac:TenderingProcess><cbc:ProcedureCode listName=\"procurement-procedure-type\">open</cbc:ProcedureCode>");
    if let Some(id) = &n.contract_notice_id {
        o.push_str(&format!(
            "<cac:NoticeDocumentReference><cbc:ID schemeName=\"notice-id-ref\">{id}-01</cbc:ID></cac:NoticeDocumentReference>"
        ));
    }
    o.push_str("</cac:TenderingProcess>\n");
    let main_cpv = n
        .lots
        .first()
        .map(|l| l.lot.cpv.as_str())
        .unwrap_or("00000000");
    o.push_str(&format!(
        "<cac:ProcurementProject><cbc:ID schemeName=\"InternalID\">{}</cbc:ID><cbc:Name languageID=\"FRA\">{}</cbc:Name><cbc:Description languageID=\"FRA\">{}</cbc:Description><cbc:ProcurementTypeCode listName=\"contract-nature\">{}</cbc:ProcurementTypeCode><cac:MainCommodityClassification><cbc:ItemClassificationCode listName=\"cpv\">{main_cpv}</cbc:ItemClassificationCode></cac:MainCommodityClassification>{}</cac:ProcurementProject>\n",
        x(&n.reference),
        x(&n.title),
        x(&n.description),
        nature(main_cpv),
        places(&mut n.lots.iter().flat_map(|l| &l.lot.postcodes)),
    ));
    for l in &n.lots {
        let lot = &l.lot;
        o.push_str(&format!(
            "<cac:ProcurementProjectLot><cbc:ID schemeName=\"Lot\">LOT-{:04}</cbc:ID>\n<cac:TenderingTerms><cbc:FundingProgramCode listName=\"eu-funded\">no-eu-funds</cbc:FundingProgramCode>",
            lot.number
        ));
        o.push_str(&awarding_terms(n.weights));
        o.push_str(&format!(
            "<cac:AppealTerms><cac:PresentationPeriod><cbc:Description languageID=\"FRA\">{APPEAL}</cbc:Description></cac:PresentationPeriod><cac:AppealReceiverParty><cac:PartyIdentification><cbc:ID schemeName=\"organization\">{}</cbc:ID></cac:PartyIdentification></cac:AppealReceiverParty></cac:AppealTerms>",
            organisation_id(n.buyers.len())
        ));
        o.push_str("</cac:TenderingTerms>\n<cac:TenderingProcess><cbc:GovernmentAgreementConstraintIndicator>true</cbc:GovernmentAgreementConstraintIndicator><cac:AuctionTerms><cbc:AuctionConstraintIndicator>false</cbc:AuctionConstraintIndicator></cac:AuctionTerms><cac:ContractingSystem><cbc:ContractingSystemTypeCode listName=\"framework-agreement\">none</cbc:ContractingSystemTypeCode></cac:ContractingSystem><cac:ContractingSystem><cbc:ContractingSystemTypeCode listName=\"dps-usage\">none</cbc:ContractingSystemTypeCode></cac:ContractingSystem></cac:TenderingProcess>\n");
        o.push_str(&format!(
            "<cac:ProcurementProject><cbc:ID schemeName=\"InternalID\">{}-{}</cbc:ID><cbc:Name languageID=\"FRA\">{}</cbc:Name><cbc:Description languageID=\"FRA\">{}</cbc:Description><cbc:ProcurementTypeCode listName=\"contract-nature\">{}</cbc:ProcurementTypeCode>{}<cac:MainCommodityClassification><cbc:ItemClassificationCode listName=\"cpv\">{}</cbc:ItemClassificationCode></cac:MainCommodityClassification>{}</cac:ProcurementProject>\n",
            x(&n.reference),
            lot.number,
            x(&lot.title),
            x(&lot.title),
            nature(&lot.cpv),
            strategic(n.weights.2),
            lot.cpv,
            places(&mut lot.postcodes.iter()),
        ));
        o.push_str("</cac:ProcurementProjectLot>\n");
    }
    o.push_str(&format!(
        "<cac:TenderResult><cbc:AwardDate>{}</cbc:AwardDate></cac:TenderResult>\n",
        date(n.awarded)
    ));
    o.push_str("</ContractAwardNotice>\n");
    o
}

/// The review procedures (BT-99), the same in every notice.
const APPEAL: &str = "Référé précontractuel avant la signature du marché (article L551-1 du code de justice administrative) ; recours en contestation de validité dans les deux mois suivant la publication de l'avis d'attribution.";

/// The award criteria with their weights (BT-539, BT-540, BT-541, BT-734); the environmental
/// one is a quality criterion named as such.
fn awarding_terms((price, quality, environment): (i32, i32, i32)) -> String {
    let mut o = String::from("<cac:AwardingTerms><cac:AwardingCriterion>");
    for (weight, kind, name, description) in [
        (price, "price", "Prix", "Le prix des prestations"),
        (
            quality,
            "quality",
            "Valeur technique",
            "La valeur technique de l'offre",
        ),
        (
            environment,
            "quality",
            "Performance environnementale",
            "Critère environnemental (article R2152-7 du code de la commande publique)",
        ),
    ] {
        if weight <= 0 {
            continue;
        }
        o.push_str(&format!(
            "<cac:SubordinateAwardingCriterion><ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><efext:EformsExtension><efac:AwardCriterionParameter><efbc:ParameterCode listName=\"number-weight\">per-exa</efbc:ParameterCode><efbc:ParameterNumeric>{weight}</efbc:ParameterNumeric></efac:AwardCriterionParameter></efext:EformsExtension></ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions><cbc:AwardingCriterionTypeCode listName=\"award-criterion-type\">{kind}</cbc:AwardingCriterionTypeCode><cbc:Name languageID=\"FRA\">{name}</cbc:Name><cbc:Description languageID=\"FRA\">{}</cbc:Description></cac:SubordinateAwardingCriterion>",
            x(description)
        ));
    }
    o.push_str("</cac:AwardingCriterion></cac:AwardingTerms>");
    o
}

/// The strategic procurement of a lot (BT-06, BT-774, BT-805, BT-777): environmental when an
/// environmental criterion is weighted.
fn strategic(environment: i32) -> &'static str {
    match environment > 0 {
        true => "<cac:ProcurementAdditionalType><cbc:ProcurementTypeCode listName=\"strategic-procurement\">env-imp</cbc:ProcurementTypeCode><cbc:ProcurementType languageID=\"FRA\">Réduction des incidences environnementales : un critère d'attribution environnemental est pondéré dans le choix des offres.</cbc:ProcurementType></cac:ProcurementAdditionalType><cac:ProcurementAdditionalType><cbc:ProcurementTypeCode listName=\"environmental-impact\">other</cbc:ProcurementTypeCode></cac:ProcurementAdditionalType><cac:ProcurementAdditionalType><cbc:ProcurementTypeCode listName=\"gpp-criteria\">other</cbc:ProcurementTypeCode></cac:ProcurementAdditionalType>",
        false => "<cac:ProcurementAdditionalType><cbc:ProcurementTypeCode listName=\"strategic-procurement\">none</cbc:ProcurementTypeCode></cac:ProcurementAdditionalType>",
    }
}

/// An organisation's company part: identifier, name, address, legal identifier, contact.
#[allow(clippy::too_many_arguments)]
fn company(
    id: &str,
    name: &str,
    street: &str,
    postcode: &str,
    city: &str,
    legal_id: &str,
    phone: &str,
    email: &str,
) -> String {
    format!(
        "<cac:PartyIdentification><cbc:ID schemeName=\"organization\">{id}</cbc:ID></cac:PartyIdentification>\
         <cac:PartyName><cbc:Name languageID=\"FRA\">{}</cbc:Name></cac:PartyName>\
         <cac:PostalAddress>{}<cbc:CityName>{}</cbc:CityName><cbc:PostalZone>{}</cbc:PostalZone><cbc:CountrySubentityCode listName=\"nuts\">{}</cbc:CountrySubentityCode><cac:Country><cbc:IdentificationCode listName=\"country\">FRA</cbc:IdentificationCode></cac:Country></cac:PostalAddress>\
         {}<cac:Contact>{}<cbc:ElectronicMail>{}</cbc:ElectronicMail></cac:Contact>",
        x(name),
        match street.is_empty() {
            true => String::new(),
            false => format!("<cbc:StreetName>{}</cbc:StreetName>", x(street)),
        },
        x(city),
        x(postcode),
        nuts_of_postcode(postcode).unwrap_or("FRC11"),
        match legal_id.is_empty() {
            true => String::new(),
            false => format!(
                "<cac:PartyLegalEntity><cbc:CompanyID>{}</cbc:CompanyID></cac:PartyLegalEntity>",
                x(legal_id)
            ),
        },
        match phone.is_empty() {
            true => String::new(),
            false => format!("<cbc:Telephone>{}</cbc:Telephone>", x(phone)),
        },
        x(email),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_places_are_those_of_the_code_lists() {
        let id = uuid_of("notice:GRP-2027-001:1");
        assert_eq!(id, uuid_of("notice:GRP-2027-001:1"));
        assert_ne!(id, uuid_of("notice:GRP-2027-001:2"));
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(
            parts[3].chars().next(),
            Some('8' | '9' | 'a' | 'b')
        ));
        assert_eq!(nuts_of_postcode("21000"), Some("FRC11"));
        assert_eq!(nuts_of_postcode("71100"), Some("FRC13"));
        assert_eq!(nuts_of_postcode("20000"), Some("FRM01"));
        assert_eq!(nuts_of_postcode("97400"), Some("FRY40"));
        assert_eq!(nuts_of_postcode("99999"), None);
    }
}
