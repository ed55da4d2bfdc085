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
        "housing_office" => ("body-pl-la", "hc-am"),
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
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    o.push_str(
        "<ContractNotice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:ContractNotice-2\" \
         xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\" \
         xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\" \
         xmlns:ext=\"urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2\" \
         xmlns:efac=\"http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1\" \
         xmlns:efbc=\"http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1\" \
         xmlns:efext=\"http://data.europa.eu/p27/eforms-ubl-extensions/1\">\n",
    );
    // The organisations: the buyers (the lead first), then the review body.
    let review = n.buyers.len();
    o.push_str(
        "<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><efext:EformsExtension>\n",
    );
    o.push_str("<efac:NoticeSubType><cbc:SubTypeCode listName=\"notice-subtype\">16</cbc:SubTypeCode></efac:NoticeSubType>\n");
    o.push_str("<efac:Organizations>\n");
    let joint = n.buyers.len() > 1;
    for (k, b) in n.buyers.iter().enumerate() {
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
    let court = &n.review_body;
    o.push_str(&format!(
        "<efac:Organization><efac:Company><cbc:WebsiteURI>{}</cbc:WebsiteURI>{}</efac:Company></efac:Organization>\n",
        x(&court.website),
        company(
            &organisation_id(review),
            &court.name,
            &court.street,
            &court.postcode,
            &court.city,
            &court.legal_id,
            &court.phone,
            &court.email
        )
    ));
    o.push_str("</efac:Organizations>\n");
    o.push_str(
        "</efext:EformsExtension></ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>\n",
    );
    o.push_str(&format!(
        "<cbc:UBLVersionID>2.3</cbc:UBLVersionID><cbc:CustomizationID>{SDK}</cbc:CustomizationID>\n"
    ));
    o.push_str(&format!(
        "<cbc:ID schemeName=\"notice-id\">{}</cbc:ID>\n",
        uuid_of(&format!("notice:{}:{}", n.reference, n.version))
    ));
    o.push_str(&format!(
        "<cbc:ContractFolderID>{}</cbc:ContractFolderID>\n",
        uuid_of(&format!("procedure:{}", n.reference))
    ));
    o.push_str(&format!(
        "<cbc:IssueDate>{}</cbc:IssueDate><cbc:IssueTime>{}</cbc:IssueTime>\n",
        date(n.issued.date()),
        time(n.issued)
    ));
    o.push_str(&format!(
        "<cbc:VersionID>{:02}</cbc:VersionID>\n<cbc:RegulatoryDomain>32014L0024</cbc:RegulatoryDomain>\n",
        n.version
    ));
    o.push_str("<cbc:NoticeTypeCode listName=\"competition\">cn-standard</cbc:NoticeTypeCode>\n");
    o.push_str("<cbc:NoticeLanguageCode>FRA</cbc:NoticeLanguageCode>\n");
    for (k, b) in n.buyers.iter().enumerate() {
        let (legal, activity) = legal_type_and_activity(&b.kind);
        o.push_str(&format!(
            "<cac:ContractingParty><cac:ContractingPartyType><cbc:PartyTypeCode listName=\"buyer-legal-type\">{legal}</cbc:PartyTypeCode></cac:ContractingPartyType>\
             <cac:ContractingActivity><cbc:ActivityTypeCode listName=\"authority-activity\">{activity}</cbc:ActivityTypeCode></cac:ContractingActivity>\
             <cac:Party><cac:PartyIdentification><cbc:ID schemeName=\"organization\">{}</cbc:ID></cac:PartyIdentification></cac:Party></cac:ContractingParty>\n",
            organisation_id(k)
        ));
    }
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
    let places = |postcodes: &mut dyn Iterator<Item = &String>| -> String {
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
    };
    o.push_str(&format!(
        "<cac:ProcurementProject><cbc:ID schemeName=\"InternalID\">{}</cbc:ID><cbc:Name languageID=\"FRA\">{}</cbc:Name><cbc:Description languageID=\"FRA\">{}</cbc:Description><cbc:ProcurementTypeCode listName=\"contract-nature\">{}</cbc:ProcurementTypeCode><cac:MainCommodityClassification><cbc:ItemClassificationCode listName=\"cpv\">{main_cpv}</cbc:ItemClassificationCode></cac:MainCommodityClassification>{}</cac:ProcurementProject>\n",
        x(&n.reference),
        x(&n.title),
        x(&n.description),
        nature(main_cpv),
        places(&mut n.lots.iter().flat_map(|l| &l.postcodes)),
    ));
    let (price, quality, environment) = n.weights;
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
        o.push_str("<cac:AwardingTerms><cac:AwardingCriterion>");
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
        o.push_str(&format!(
            "<cac:TenderRecipientParty><cbc:EndpointID>{}</cbc:EndpointID><cac:PartyIdentification><cbc:ID schemeName=\"organization\">{}</cbc:ID></cac:PartyIdentification></cac:TenderRecipientParty>",
            x(&n.submission_url),
            organisation_id(0)
        ));
        o.push_str("<cac:TenderValidityPeriod><cbc:DurationMeasure unitCode=\"MONTH\">4</cbc:DurationMeasure></cac:TenderValidityPeriod>");
        o.push_str(&format!(
            "<cac:AppealTerms><cac:PresentationPeriod><cbc:Description languageID=\"FRA\">Référé précontractuel avant la signature du marché (article L551-1 du code de justice administrative) ; recours en contestation de validité dans les deux mois suivant la publication de l'avis d'attribution.</cbc:Description></cac:PresentationPeriod><cac:AppealReceiverParty><cac:PartyIdentification><cbc:ID schemeName=\"organization\">{}</cbc:ID></cac:PartyIdentification></cac:AppealReceiverParty></cac:AppealTerms>",
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
        let strategic = match environment > 0 {
            true => "<cac:ProcurementAdditionalType><cbc:ProcurementTypeCode listName=\"strategic-procurement\">env-imp</cbc:ProcurementTypeCode><cbc:ProcurementType languageID=\"FRA\">Réduction des incidences environnementales : un critère d'attribution environnemental est pondéré dans le choix des offres.</cbc:ProcurementType></cac:ProcurementAdditionalType><cac:ProcurementAdditionalType><cbc:ProcurementTypeCode listName=\"environmental-impact\">other</cbc:ProcurementTypeCode></cac:ProcurementAdditionalType><cac:ProcurementAdditionalType><cbc:ProcurementTypeCode listName=\"gpp-criteria\">other</cbc:ProcurementTypeCode></cac:ProcurementAdditionalType>",
            false => "<cac:ProcurementAdditionalType><cbc:ProcurementTypeCode listName=\"strategic-procurement\">none</cbc:ProcurementTypeCode></cac:ProcurementAdditionalType>",
        };
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
