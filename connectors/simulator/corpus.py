"""The simulated network's words: places, people and message templates in English and Arabic."""

from __future__ import annotations

# Templates use str.format slots filled per message in the message's language:
#   {handle} {city} {street} {street2} {hood} {place} {shelter} {bridge} {school} {dam} {river}
#   {day} {n} {tag} {vip_name} {vip_outlet}
# A template without {handle} gets the profile's handle added by the generator when the kind
# is a mention, so the same sentence works as a mention, a DM or public chatter.

# ---------------------------------------------------------------- places (English, Arabic)

STREETS = (
    ("Elm Street", "شارع إلم"),
    ("Mill Road", "طريق المطحنة"),
    ("Harbour Drive", "طريق الميناء"),
    ("Oak Avenue", "جادة البلوط"),
    ("Station Road", "طريق المحطة"),
    ("Canal Street", "شارع القناة"),
    ("Bridge Street", "شارع الجسر"),
    ("Church Lane", "شارع الكنيسة"),
    ("Queen's Road", "طريق الملكة"),
    ("Victoria Street", "شارع فيكتوريا"),
    ("Meadow Lane", "شارع المرج"),
    ("High Street", "الشارع الرئيسي"),
    ("Wharf Road", "طريق الرصيف"),
    ("Park Road", "طريق الحديقة"),
    ("Willow Close", "شارع الصفصاف"),
    ("Foundry Lane", "شارع المسبك"),
)

NEIGHBOURHOODS = (
    ("Northfield", "نورثفيلد"),
    ("Lowmoor", "لومور"),
    ("Old Town", "البلدة القديمة"),
    ("Westbury", "ويستبري"),
    ("Greenway", "غرينواي"),
    ("Kingsbridge", "كينغزبريدج"),
    ("Riverside", "ريفرسايد"),
    ("Hillcrest", "هيلكرست"),
    ("Millbrook", "ميلبروك"),
    ("St Anne's", "سانت آن"),
    ("East Wend", "إيست ويند"),
)

PLACES = (
    ("Market Square", "ساحة السوق"),
    ("Riverside Park", "حديقة النهر"),
    ("the leisure centre", "المركز الترفيهي"),
    ("the central library", "المكتبة المركزية"),
    ("the train station", "محطة القطار"),
    ("Victoria Park", "حديقة فيكتوريا"),
    ("the retail park", "مجمع التسوق"),
    ("the health centre", "المركز الصحي"),
    ("the bus station", "محطة الحافلات"),
)

# "{city}" inside a place is replaced with the configured city name.
SHELTERS = (
    ("{city} Leisure Centre", "مركز {city} الترفيهي"),
    ("St Mary's School", "مدرسة سانت ماري"),
    ("the Community Hall on Mill Road", "قاعة المجتمع في طريق المطحنة"),
    ("Hillcrest Academy", "أكاديمية هيلكرست"),
    ("the Islamic Centre on Station Road", "المركز الإسلامي في طريق المحطة"),
)

BRIDGES = (
    ("Wend Bridge", "جسر ويند"),
    ("the railway bridge", "جسر السكة الحديدية"),
    ("Mill Bridge", "جسر المطحنة"),
    ("the footbridge at Riverside Park", "جسر المشاة في حديقة النهر"),
)

SCHOOLS = (
    ("St Mary's School", "مدرسة سانت ماري"),
    ("Northfield Primary", "مدرسة نورثفيلد الابتدائية"),
    ("Hillcrest Academy", "أكاديمية هيلكرست"),
    ("Lowmoor Infants", "مدرسة لومور للأطفال"),
)

DAYS = (
    ("Monday", "الاثنين"),
    ("Tuesday", "الثلاثاء"),
    ("Wednesday", "الأربعاء"),
    ("Thursday", "الخميس"),
    ("Friday", "الجمعة"),
    ("Saturday", "السبت"),
    ("Sunday", "الأحد"),
)

DAM = ("Halden Dam", "سد هالدن")
RIVER = ("River Wend", "نهر ويند")
DEFAULT_CITY = ("Riverton", "ريفرتون")

# Hashtags; "{city}" is replaced with the city name without spaces.
TAGS_NORMAL = {
    "en": ("#{city}", "#{city}Council", "#LocalGov", "#Potholes", "#BinDay", ""),
    "ar": ("#{city_ar}", "#بلدية_{city_ar}", ""),
}
TAGS_FLOOD = {
    "en": ("#{city}Flood", "#FloodWatch", "#StaySafe", "#{city}", "#FloodAlert"),
    "ar": ("#فيضان_{city_ar}", "#سيول", "#ابقوا_بأمان", "#{city_ar}"),
}

# Emoji that fit the mood of a message; the empty strings make most messages go without.
EMOJI_TAIL = {
    "angry": ("", "", " 😡", " 🙄", " 😤"),
    "thanks": ("", "", " 🙏", " 👏", " 👍🏽", " ❤️"),
    "worried": ("", "", " 😢", " ⚠️", " 🙏", " 🌧️"),
    "neutral": ("", "", "", " 🤔"),
}

# A closing remark now and then, so the same template does not always read the same.
CLOSERS = {
    "angry": {"en": (" Not good enough.", " Typical.", " Sort it out please.", " Anyone else?"), "ar": (" هذا غير مقبول.", " هل عند أحدكم نفس المشكلة؟")},
    "thanks": {"en": (" Keep it up!", " Much appreciated."), "ar": (" بارك الله فيكم.", " جهود مشكورة.")},
    "worried": {"en": (" Please share.", " Stay safe all.", " RT please"), "ar": (" أرجو النشر.", " ابقوا بأمان.")},
    "neutral": {"en": (" Thanks in advance.", " Cheers.", " Anyone know?"), "ar": (" شكراً مقدماً.", " هل يعرف أحد؟")},
}

# ---------------------------------------------------------------- people

EN_FIRST = (
    "Sarah", "James", "Emma", "Tom", "Olivia", "Daniel", "Chloe", "Ben", "Hannah", "Luke",
    "Grace", "Ryan", "Sophie", "Matt", "Amy", "Chris", "Jess", "Adam", "Laura", "Josh",
    "Megan", "Sam", "Katie", "Liam", "Rachel", "Jack", "Holly", "Owen", "Zoe", "Connor",
    "Priya", "Marcus", "Aisha", "Kwame", "Mei", "Tomasz", "Kasia", "Niamh", "Callum", "Deepa",
    "Graham", "Sandra", "Pete", "Linda", "Keith", "Maureen", "Dave", "Beverley", "Ray", "Janet",
)
EN_LAST = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Hughes", "Edwards", "Turner", "Hill", "Moore", "Cooper", "Ward", "Morris", "King",
    "Nowak", "Kowalski", "Mensah", "Okoye", "Chen", "Khan", "Murphy", "O'Brien", "Fraser", "Singh",
)
# (Latin transliteration, Arabic script)
AR_FIRST = (
    ("Ahmed", "أحمد"), ("Mohammed", "محمد"), ("Fatima", "فاطمة"), ("Layla", "ليلى"), ("Sara", "سارة"),
    ("Omar", "عمر"), ("Youssef", "يوسف"), ("Mariam", "مريم"), ("Khalid", "خالد"), ("Nour", "نور"),
    ("Rana", "رنا"), ("Huda", "هدى"), ("Sami", "سامي"), ("Karim", "كريم"), ("Yasmin", "ياسمين"),
    ("Ali", "علي"), ("Hassan", "حسن"), ("Zainab", "زينب"), ("Rami", "رامي"), ("Dina", "دينا"),
    ("Tariq", "طارق"), ("Mona", "منى"), ("Ibrahim", "إبراهيم"), ("Salma", "سلمى"), ("Bilal", "بلال"),
    ("Hala", "هالة"), ("Walid", "وليد"), ("Joud", "جود"), ("Lina", "لينا"), ("Mazen", "مازن"),
)
AR_LAST = (
    ("Haddad", "حداد"), ("Khalil", "خليل"), ("Mansour", "منصور"), ("Nasser", "ناصر"), ("Issa", "عيسى"),
    ("Suleiman", "سليمان"), ("AlKhatib", "الخطيب"), ("Hamdan", "حمدان"), ("Saleh", "صالح"), ("Othman", "عثمان"),
    ("AlZein", "الزين"), ("Qasim", "قاسم"), ("Abdullah", "عبد الله"), ("Hussein", "حسين"), ("Jaber", "جابر"),
    ("Darwish", "درويش"), ("Farah", "فرح"), ("Bakr", "بكر"),
)

# Recurring accounts with many followers. role picks their templates; vip_list is how the demo
# seeds the app's VIP lists. (handle, display name, outlet or organisation in en/ar, followers,
# verified, language, role, vip_list)
VIPS = (
    ("@dana_reports", "Dana Whitfield", ("Riverton Gazette", "صحيفة ريفرتون غازيت"), 48_200, True, "en", "press", "Reporters"),
    ("@sampatel_ch7", "Sam Patel", ("Channel 7 News", "أخبار القناة السابعة"), 91_000, True, "en", "press", "Reporters"),
    ("@rivertonfm_news", "Riverton FM News", ("Riverton FM", "إذاعة ريفرتون"), 23_500, True, "en", "press", "Reporters"),
    ("@noor_khalil_news", "نور خليل", ("Community Radio Arabic", "راديو الجالية"), 15_800, True, "ar", "press", "Reporters"),
    ("@cllr_okafor", "Cllr Grace Okafor", ("Northfield ward", "دائرة نورثفيلد"), 6_300, True, "en", "official", "Elected officials"),
    ("@cllr_haddad", "المستشار سمير حداد", ("Lowmoor ward", "دائرة لومور"), 4_100, True, "ar", "official", "Elected officials"),
    ("@mayor_hollis", "Mayor Tom Hollis", ("Mayor of Riverton", "عمدة ريفرتون"), 12_700, True, "en", "official", "Elected officials"),
    ("@janemarsh_mp", "Jane Marsh MP", ("MP for Riverton", "نائبة ريفرتون"), 38_000, True, "en", "official", "Elected officials"),
    ("@rivertonpolice", "Riverton Police", ("Riverton Police", "شرطة ريفرتون"), 52_000, True, "en", "police", "Partner agencies"),
    ("@countyfire", "County Fire & Rescue", ("County Fire & Rescue", "الإطفاء والإنقاذ"), 41_000, True, "en", "fire", "Partner agencies"),
    ("@wendwater", "Wend Valley Water", ("Wend Valley Water", "مياه وادي ويند"), 18_000, True, "en", "water", "Partner agencies"),
    ("@county_em", "County Emergency Management", ("County EM", "إدارة الطوارئ"), 27_000, True, "en", "em", "Partner agencies"),
    ("@rv_weather", "Riverton Weather Watch", ("Weather Watch", "رصد الطقس"), 9_400, False, "en", "weather", "Partner agencies"),
    ("@riverton_arab_assoc", "جمعية الجالية العربية في ريفرتون", ("Arab Community Association", "جمعية الجالية العربية"), 3_900, False, "ar", "community", ""),
)

# ---------------------------------------------------------------- templates: normal days

NORMAL = {
    "question": {
        "en": (
            "When does the bin collection resume in {hood}? It's been two weeks.",
            "Is the recycling centre on {street} open on {day}?",
            "Hi {handle}, how do I report a broken streetlight on {street}?",
            "Are there any road works planned on {street} this week? Traffic is a nightmare",
            "When is the next council meeting open to the public?",
            "Can I still apply for the winter heating grant? The link on your website is broken",
            "What time does the library in {hood} close on {day}?",
            "Do you collect garden waste in {hood} this month?",
            "How do I get a replacement bin? Ours disappeared after collection",
            "Any update on the playground repairs at {place}?",
            "Who do I contact about a noise complaint in {hood}?",
            "Is parking free in the town centre on {day}?",
            "Is {place} step-free? Need to know before I bring my dad's wheelchair",
            "How do I pay my council tax in instalments?",
        ),
        "ar": (
            "متى تُستأنف خدمة جمع النفايات في {hood}؟ مرّ أسبوعان ولم يأتِ أحد.",
            "هل مركز إعادة التدوير في {street} مفتوح يوم {day}؟",
            "مرحباً {handle}، كيف يمكنني الإبلاغ عن عمود إنارة معطّل في {street}؟",
            "هل هناك أعمال صيانة مخطط لها في {street} هذا الأسبوع؟ الزحام لا يُطاق",
            "كيف أقدّم طلباً للحصول على منحة التدفئة الشتوية؟ الرابط على موقعكم لا يعمل",
            "ما مواعيد عمل المكتبة العامة في {hood} يوم {day}؟",
            "هل تتوفر معلومات البلدية باللغة العربية؟ والدتي لا تتقن الإنجليزية",
            "أين يمكنني الحصول على حاوية نفايات جديدة؟ حاويتنا اختفت بعد الجمع",
            "كيف أدفع ضريبة البلدية على أقساط؟",
        ),
    },
    "complaint": {
        "en": (
            "The pothole on {street} is getting bigger every day. Someone is going to get hurt",
            "Third power cut in {hood} this week. What is going on?",
            "The water from our taps in {hood} is brown again. Is it safe?",
            "Bins on {street} haven't been collected for 10 days, the smell is unbearable",
            "Streetlights on {street} have been out for a month. Please fix before someone gets hurt",
            "Fly-tipping behind {place} again. Mattresses, fridges, the lot.",
            "Why does it take 40 minutes to get through on your phone line?",
            "The bus shelter on {street} has been smashed for weeks",
            "Low water pressure all morning in {hood}. Any idea when it'll be back to normal?",
            "Dangerous tree branch hanging over the footpath on {street}",
            "Cars parked on the pavement outside {school} every single morning. Kids have to walk in the road",
        ),
        "ar": (
            "الحفرة في {street} تكبر كل يوم، سيتأذى أحدهم قريباً",
            "انقطاع الكهرباء للمرة الثالثة هذا الأسبوع في {hood}. ماذا يحدث؟",
            "مياه الصنبور في {hood} بنية اللون مرة أخرى. هل هي آمنة للشرب؟",
            "لم تُجمع النفايات في {street} منذ عشرة أيام والرائحة لا تُحتمل",
            "أعمدة الإنارة في {street} مطفأة منذ شهر، الشارع مظلم تماماً في الليل",
            "ضغط المياه ضعيف جداً منذ الصباح في {hood}",
            "انتظرت أربعين دقيقة على الهاتف ولم يرد أحد",
            "السيارات تقف على الرصيف أمام {school} كل صباح والأطفال يمشون في الشارع",
        ),
    },
    "praise": {
        "en": (
            "Big thanks to the crew who fixed the streetlights on {street} so quickly",
            "The new cycle lane on {street} is brilliant. More of this please!",
            "Shout out to the library staff in {hood}, always so helpful.",
            "Bins collected early this morning, great job team",
            "Lovely to see {place} looking so clean after the weekend. Thank you",
            "Your team sorted my council tax query in five minutes. Impressed!",
        ),
        "ar": (
            "شكراً جزيلاً للفريق الذي أصلح الإنارة في {street} بهذه السرعة",
            "مسار الدراجات الجديد في {street} رائع، نريد المزيد",
            "شكراً لموظفي المكتبة في {hood} على لطفهم ومساعدتهم الدائمة",
            "أشكر فريقكم على حل مشكلتي خلال دقائق، خدمة ممتازة",
            "ما أجمل {place} اليوم بعد التنظيف، شكراً لكم 🌷",
        ),
    },
    "rumour": {
        "en": (
            "Heard you're closing the library in {hood} for good. Is that true??",
            "Someone said council tax is going up 20% next year. Care to explain?",
            "My neighbour says there's going to be an incinerator on {street}. Is this real?",
            "Is it true {place} is being sold to developers?",
        ),
        "ar": (
            "سمعت أنكم ستغلقون المكتبة في {hood} نهائياً، هل هذا صحيح؟",
            "يقولون إن ضريبة البلدية سترتفع ٢٠٪ العام المقبل، هل هذا صحيح؟",
            "هل صحيح أن البلدية ستبيع {place} لشركة عقارات؟",
        ),
    },
    "suggestion": {
        "en": (
            "Could we get a pedestrian crossing near {school}? Kids are dodging traffic every morning.",
            "Any chance of a Sunday market in {city}?",
            "Please put more bins along {street}, they're overflowing every weekend",
            "Would love to see a community garden at {place}. Happy to volunteer!",
        ),
        "ar": (
            "نقترح إضافة ممر مشاة قرب {school}، الأطفال يعبرون وسط السيارات كل صباح",
            "نتمنى وضع المزيد من حاويات النفايات في {street}، فهي ممتلئة كل نهاية أسبوع",
            "ما رأيكم بإنشاء حديقة مجتمعية في {place}؟ أنا مستعد للتطوع",
        ),
    },
}

# A story of the day tilts a normal day's topics, so days differ from one another.
DAY_STORIES = {
    "water_main": {
        "en": (
            "Burst water main on {street}, water pouring down the road",
            "No water at all in {hood} since this morning. When will it be back?",
            "Is the water off because of the burst main on {street}? How long for?",
        ),
        "ar": (
            "انفجار في خط المياه الرئيسي في {street} والمياه تتدفق في الشارع",
            "لا توجد مياه إطلاقاً في {hood} منذ الصباح، متى تعود؟",
        ),
    },
    "power_cut": {
        "en": (
            "Power's been out in {hood} for 3 hours now. Any update?",
            "Traffic lights out at the {street} junction because of the power cut, total chaos",
            "Freezer full of food and no power in {hood} since lunchtime. Who do we claim from?",
        ),
        "ar": (
            "الكهرباء مقطوعة في {hood} منذ ثلاث ساعات، هل من جديد؟",
            "إشارات المرور معطلة عند تقاطع {street} بسبب انقطاع الكهرباء",
        ),
    },
    "bins": {
        "en": (
            "Is there a bin strike? Nothing collected on {street} today",
            "Bin lorry skipped our whole road in {hood} again",
            "Recycling left on the pavement on {street} for the foxes to rip open",
        ),
        "ar": (
            "هل هناك إضراب لعمال النظافة؟ لم تُجمع النفايات في {street} اليوم",
            "شاحنة النفايات تجاوزت شارعنا في {hood} مرة أخرى",
        ),
    },
    "roadworks": {
        "en": (
            "Who planned roadworks on {street} and {street2} at the same time?!",
            "45 minutes to get from {hood} to the station because of the roadworks",
            "Temporary lights on {street} stuck on red for ages",
        ),
        "ar": (
            "من خطط لأعمال الطرق في {street} و{street2} في الوقت نفسه؟!",
            "استغرقت خمساً وأربعين دقيقة من {hood} إلى المحطة بسبب أعمال الطرق",
        ),
    },
    "festival": {
        "en": (
            "Is the {city} summer festival still on at {place} this weekend?",
            "Fantastic atmosphere at {place} today, well done to everyone involved!",
            "Where can disabled visitors park for the festival at {place}?",
        ),
        "ar": (
            "هل مهرجان {city} الصيفي ما زال قائماً في {place} نهاية هذا الأسبوع؟",
            "أجواء رائعة في {place} اليوم، شكراً لكل من شارك في التنظيم",
        ),
    },
    "budget": {
        "en": (
            "Why is the council cutting library hours but not its own allowances?",
            "Where can I read the budget proposals before the consultation closes?",
            "Will the budget cuts affect the youth centre in {hood}?",
        ),
        "ar": (
            "هل ستؤثر تخفيضات الميزانية على مركز الشباب في {hood}؟",
            "أين يمكنني قراءة مقترحات الميزانية قبل انتهاء الاستشارة؟",
        ),
    },
}

# ---------------------------------------------------------------- templates: flash flood

FLOOD = {
    "eyewitness": {
        "en": (
            "Water is coming up through the drains on {street}, already ankle deep",
            "The river is over the bank at {bridge}. Never seen it this high. {tag}",
            "{street} is completely under water, cars stuck. Send help",
            "Our basement in {hood} is flooding fast. Who do we call?",
            "{tag} Water rising really quickly by {place}. Stay away!",
            "Manhole covers lifting on {street}, water shooting up. Be careful {tag}",
            "Just watched a car float down {street}. Unreal. {tag}",
        ),
        "ar": (
            "المياه تخرج من فتحات الصرف في {street} ووصلت إلى الكاحل",
            "النهر فاض عند {bridge}، لم أره بهذا الارتفاع من قبل {tag}",
            "المياه تغمر {street} بالكامل والسيارات عالقة، نحتاج مساعدة",
            "قبو منزلنا في {hood} يغرق بسرعة، بمن نتصل؟",
            "المياه ترتفع بسرعة كبيرة قرب {place}، ابتعدوا عن المنطقة {tag}",
        ),
    },
    "question": {
        "en": (
            "Is it safe to drive from {hood} to the town centre right now?",
            "Are schools closed tomorrow because of the flooding?",
            "Where can I get sandbags in {hood}?",
            "Is there an evacuation order for {hood}? We haven't heard anything",
            "My elderly mum lives alone on {street}, can someone check on her?",
            "Where do we take our pets if we have to leave?",
            "Is the tap water still safe to drink?",
            "Are buses still running through {hood}?",
            "Should we turn the electricity off if water is coming in?",
        ),
        "ar": (
            "هل القيادة آمنة الآن من {hood} إلى وسط المدينة؟",
            "هل المدارس مغلقة غداً بسبب الفيضان؟",
            "أين يمكن الحصول على أكياس الرمل في {hood}؟",
            "هل صدر أمر إخلاء لحي {hood}؟ لم يصلنا أي إشعار",
            "والدتي المسنّة تعيش وحدها في {street}، هل يمكن لأحد أن يطمئن عليها؟",
            "هل مياه الشرب لا تزال آمنة؟",
            "هل يجب أن نفصل الكهرباء إذا دخلت المياه إلى البيت؟",
        ),
    },
    "road": {
        "en": (
            "{street} closed at {bridge}, police turning cars back {tag}",
            "Is {street} open? The map says it's closed but there's no sign",
            "Avoid {street}, a car is stuck in the water under the railway bridge {tag}",
            "Can I get from {hood} to the hospital? Every road seems to be shut",
        ),
        "ar": (
            "إغلاق {street} عند {bridge} والشرطة تعيد السيارات {tag}",
            "هل يمكن المرور في {street}؟ الخريطة تُظهر أن الطريق مغلق لكن لا توجد لافتة",
            "كيف أصل من {hood} إلى المستشفى؟ كل الطرق مغلقة",
        ),
    },
    "evacuation": {
        "en": (
            "We've been told to leave {hood}. Where do we go?",
            "Firefighters knocking on doors on {street} telling people to evacuate {tag}",
            "How long will the evacuation of {hood} last? Can we go back for medication?",
            "My neighbour on {street} refuses to leave. What should I do?",
        ),
        "ar": (
            "طُلب منا مغادرة {hood}، إلى أين نذهب؟",
            "رجال الإطفاء يطرقون الأبواب في {street} ويطلبون من السكان الإخلاء {tag}",
            "كم سيستمر الإخلاء؟ هل يمكننا العودة لأخذ الأدوية؟",
        ),
    },
    "shelter": {
        "en": (
            "Is the shelter at {shelter} still taking people? Is it accessible for wheelchairs?",
            "Does {shelter} accept dogs?",
            "At {shelter} now, volunteers are amazing but they need more blankets",
            "Is there baby formula at {shelter}? We left in a hurry",
        ),
        "ar": (
            "هل ما زال مركز الإيواء في {shelter} يستقبل الناس؟",
            "هل يُسمح بالحيوانات الأليفة في {shelter}؟",
            "نحن الآن في {shelter}، المتطوعون رائعون لكنهم يحتاجون إلى المزيد من البطانيات",
            "هل يوجد حليب أطفال في {shelter}؟ خرجنا على عجل",
        ),
    },
    "rumour": {
        "en": (
            "The {dam} has failed!!! Everyone in {hood} get out NOW {tag}",
            "Heard the tap water is poisoned because of the flood. Don't drink it!!",
            "My cousin works for the council and says they're opening the dam gates tonight to flood {hood} on purpose",
            "People are saying looters are going house to house in {hood}. Is that true?",
            "Apparently the shelter at {shelter} is full and turning people away",
            "They're hiding the real death toll. My friend at the hospital says it's dozens",
        ),
        "ar": (
            "السد انهار!!! {dam} لم يصمد، على الجميع في {hood} المغادرة فوراً {tag}",
            "سمعت أن مياه الصنبور مسمومة بسبب الفيضان، لا تشربوها!!",
            "يقولون إن البلدية ستفتح بوابات السد الليلة وتُغرق {hood} عمداً لإنقاذ وسط المدينة",
            "هناك لصوص يتنقلون من بيت إلى بيت في {hood}، هل هذا صحيح؟",
            "مركز الإيواء في {shelter} ممتلئ ويرفض استقبال الناس، هل هذا صحيح؟",
        ),
    },
    "help_offer": {
        "en": (
            "I have a 4x4 and I'm free all night in {hood}. How can I help?",
            "Our café on {street} is open with free tea and phone charging for anyone affected {tag}",
            "Got a spare room in {hood} for a family who had to leave. DM me",
            "Where can we drop off blankets and food for the shelters?",
        ),
        "ar": (
            "لدي سيارة دفع رباعي وأنا متفرغ طوال الليل في {hood}، كيف يمكنني المساعدة؟",
            "مطعمنا في {street} يقدم وجبات مجانية لكل المتضررين من الفيضان {tag}",
            "لدينا غرفة فارغة في {hood} لأي عائلة اضطرت لمغادرة بيتها",
        ),
    },
    "praise": {
        "en": (
            "Huge respect to the fire crews on {street} tonight {tag}",
            "Thank you for the regular updates, really helps",
            "The volunteers at {shelter} are heroes",
        ),
        "ar": (
            "كل الاحترام لفرق الإطفاء في {street} الليلة",
            "شكراً على التحديثات المستمرة، مفيدة جداً",
            "المتطوعون في {shelter} أبطال حقيقيون",
        ),
    },
    "complaint": {
        "en": (
            "Why was there no warning? Water came in within 10 minutes",
            "The phone line is engaged constantly, people need help!",
            "Sandbags ran out at {place} an hour ago. Where are the rest?",
            "We were promised the drains on {street} would be cleared months ago. Look at it now",
        ),
        "ar": (
            "لماذا لم يكن هناك أي تحذير؟ دخلت المياه خلال عشر دقائق",
            "خط الطوارئ مشغول باستمرار، الناس تحتاج مساعدة!",
            "نفدت أكياس الرمل في {place} منذ ساعة، أين البقية؟",
        ),
    },
    "recovery": {
        "en": (
            "When will {street} reopen?",
            "How do we get a skip for flood-damaged furniture in {hood}?",
            "Is there any financial help for families whose homes were flooded?",
            "Who checks if our house is safe to go back into?",
            "Can you extend the free bulky waste collection in {hood}? Half the street is on the pavement",
        ),
        "ar": (
            "متى يُعاد فتح {street}؟",
            "هل هناك مساعدات مالية للعائلات التي غمرت المياه منازلها؟",
            "من يتحقق من أن بيتنا آمن للعودة إليه؟",
            "كيف نتخلص من الأثاث التالف بسبب الفيضان في {hood}؟",
        ),
    },
}

# ---------------------------------------------------------------- templates: recurring accounts, by role

VIP_TEMPLATES = {
    "press": {
        "normal": {
            "en": (
                "{vip_name}, {vip_outlet}. Could you send us a statement on the delays to the {street} road works?",
                "We're hearing reports of a water outage in {hood}. Can you confirm? DMs open.",
                "Is anyone available for a short interview this afternoon about the budget consultation?",
                "How many households are affected by the problem in {hood}? Deadline 4pm.",
            ),
            "ar": (
                "مرحباً، {vip_name} من {vip_outlet}. هل يمكن للبلدية الإدلاء بتصريح حول تأخر أعمال الطرق في {street}؟",
                "تصلنا تقارير عن انقطاع المياه في {hood}. هل يمكنكم التأكيد؟",
            ),
        },
        "flood": {
            "en": (
                "{vip_name}, {vip_outlet}. Can you confirm how many homes have been evacuated so far?",
                "Is the {dam} under any threat? We need an on-record answer please.",
                "When is the next press briefing on the flood?",
                "Reports of people trapped on {street}. Can you confirm and give numbers?",
                "Live on air in 10 minutes. Can someone confirm which roads are closed?",
            ),
            "ar": (
                "معكم {vip_name} من {vip_outlet}. كم عدد المنازل التي تم إخلاؤها حتى الآن؟",
                "هل {dam} معرّض لأي خطر؟ نحتاج إلى تصريح رسمي",
                "متى المؤتمر الصحفي القادم حول الفيضان؟",
            ),
        },
    },
    "official": {
        "normal": {
            "en": (
                "Residents on {street} have contacted me about the pothole again. Can we get a date for the repair?",
                "Pleased to join officers at {place} today to discuss the new youth centre.",
                "I've had several residents in {hood} ask about bin collections. Please can we get an update?",
            ),
            "ar": (
                "تواصل معي عدد من سكان {hood} بخصوص جمع النفايات، نرجو تزويدنا بموعد واضح",
                "سعدت بلقاء فريق البلدية اليوم في {place} لمناقشة مشروع مركز الشباب الجديد",
            ),
        },
        "flood": {
            "en": (
                "Residents in {hood} are asking where sandbags are available. Please share locations ASAP.",
                "I'm at {shelter} with volunteers. What supplies are most needed?",
                "Can we get translated evacuation notices out in {hood}? Many families don't read English.",
            ),
            "ar": (
                "سكان {hood} يسألون عن أماكن توزيع أكياس الرمل، نرجو نشرها فوراً",
                "أنا الآن في {shelter} مع المتطوعين، ما أكثر ما تحتاجونه؟",
            ),
        },
    },
    "police": {
        "normal": {"en": ("Officers are dealing with a collision on {street}. Please avoid the area. cc {handle}",)},
        "flood": {"en": ("{street} and {street2} are closed. Please do not drive through flood water. {tag}",)},
    },
    "fire": {
        "normal": {"en": ("Crews attending a small fire on {street}. No injuries reported. cc {handle}",)},
        "flood": {"en": ("Swift water rescue teams deployed to {hood}. Do not enter flood water, it can be deeper and faster than it looks. {tag}",)},
    },
    "water": {
        "normal": {"en": ("Planned maintenance on the water main in {hood} tonight 10pm-4am. Supply may be interrupted. cc {handle}",)},
        "flood": {"en": ("Tap water in {city} remains safe to drink. Please ignore rumours and share official updates only. {tag}",)},
    },
    "em": {
        "normal": {"en": ("Reminder: sign up for {city} emergency alerts on the council website. cc {handle}",)},
        "flood": {"en": ("Please share: rest centre at {shelter} now open. Bring medication, phone chargers and ID. {tag}",)},
    },
    "weather": {
        "normal": {"en": ("Dry and bright across {city} today. Rain arriving on {day}. cc {handle}",)},
        "flood": {"en": ("Another 40mm of rain expected over {city} in the next 6 hours. {river} still rising at {bridge}. {tag}",)},
    },
    "community": {
        "normal": {"ar": ("نرجو توفير المعلومات الرسمية باللغة العربية لأبناء الجالية في {city}",)},
        "flood": {
            "ar": (
                "كثير من العائلات العربية في {hood} لا تفهم رسائل الإخلاء بالإنجليزية، نرجو نشرها بالعربية فوراً",
                "متطوعون من الجمعية موجودون في {shelter} للترجمة والمساعدة {tag}",
            ),
        },
    },
}

# ---------------------------------------------------------------- direct messages

DM = {
    "normal": {
        "en": (
            "Hello, I tried calling but nobody answered. My council tax direct debit was taken twice this month. Can someone help?",
            "Hi, I'd like to report fly-tipping behind {place} but I don't want my name public.",
            "Good morning. My disabled parking bay application has been pending for 6 weeks, reference 4471{n}. Any news?",
            "Hi, my neighbour at {n} {street} hasn't been seen for days and the post is piling up. Who should I tell?",
            "Can you help? Our housing repair request has been open since March, mould in the children's bedroom.",
        ),
        "ar": (
            "مرحباً، حاولت الاتصال ولم يرد أحد. تم خصم ضريبة البلدية مرتين هذا الشهر، هل يمكن المساعدة؟",
            "أود الإبلاغ عن رمي نفايات بشكل مخالف خلف {place} لكن لا أريد ذكر اسمي",
            "السلام عليكم، طلب إصلاح الرطوبة في شقتنا مفتوح منذ أشهر والأطفال مرضى، أرجو المساعدة",
            "جاري في {street} رقم {n} لم يظهر منذ أيام والبريد يتراكم أمام بابه، لمن أبلغ؟",
        ),
    },
    "flood": {
        "en": (
            "We're trapped upstairs at {n} {street}, water is at the stairs. Two children with us. Please send someone.",
            "My father is on oxygen and the power is out at {n} {street}. Please help urgently.",
            "Can't get through on the phone. Our street in {hood} is flooding and my wife is 8 months pregnant.",
            "I'm a nurse, trying to get to the hospital from {hood}. Which route is open?",
        ),
        "ar": (
            "نحن محاصرون في الطابق العلوي في {street} رقم {n}، المياه وصلت إلى الدرج ومعنا طفلان، أرسلوا أحداً من فضلكم",
            "والدي يعتمد على جهاز الأكسجين والكهرباء مقطوعة في {street} رقم {n}، نحتاج مساعدة عاجلة",
            "لا أستطيع الوصول إليكم بالهاتف، شارعنا في {hood} يغرق وزوجتي حامل في الشهر الثامن",
        ),
    },
    "followup": {
        "en": ("Hello? Is anyone there?", "Any news on this please?", "Sorry to chase, still waiting to hear back.", "Thank you, I'll wait for your reply."),
        "ar": ("مرحباً؟ هل من أحد هنا؟", "هل من جديد بخصوص رسالتي؟", "آسف على الإلحاح، ما زلت أنتظر الرد."),
    },
    "followup_flood": {
        "en": ("Please hurry, the water is still rising", "Is someone coming??", "We've moved to the loft. Please."),
        "ar": ("أرجوكم أسرعوا، المياه ما زالت ترتفع", "هل هناك أحد قادم؟؟", "صعدنا إلى العلية، أرجوكم"),
    },
}

# ---------------------------------------------------------------- replies to the account's own posts

REPLIES_TO_US = {
    "normal": {
        "en": (
            "Thanks for the update!",
            "What about {hood}?",
            "Finally 🙌",
            "Will this affect bin day?",
            "Could you post this in Arabic too? Lots of neighbours don't read English",
            "Great, but when exactly?",
            "Nobody has been to {street} yet though",
            "Does this include {street}?",
        ),
        "ar": (
            "شكراً على التحديث",
            "وماذا عن {hood}؟",
            "شكراً على المعلومة",
            "متى بالضبط؟",
            "هل يشمل هذا {street}؟",
        ),
    },
    "flood": {
        "en": (
            "Thank you. Is {street} included in the evacuation?",
            "Where is the nearest shelter to {hood}?",
            "Is the dam safe? People are saying it's failed",
            "Please post this in Arabic too, many neighbours don't read English",
            "What about people who can't leave their homes?",
            "Is {street} passable yet?",
            "Thank you for keeping us informed 🙏",
        ),
        "ar": (
            "شكراً. هل يشمل الإخلاء {street}؟",
            "أين أقرب مركز إيواء إلى {hood}؟",
            "هل السد آمن؟ الناس يقولون إنه انهار",
            "ماذا عن كبار السن الذين لا يستطيعون مغادرة منازلهم؟",
            "شكراً لإبقائنا على اطلاع 🙏",
        ),
    },
    # The person we answered, answering back.
    "answer_back": {
        "en": ("Thank you, that helps", "Thanks, but nobody has come yet", "Brilliant, thank you!", "That doesn't answer my question though", "Thanks for getting back to me"),
        "ar": ("شكراً جزيلاً، هذا مفيد", "شكراً، لكن لم يأتِ أحد حتى الآن", "ممتاز، شكراً لكم", "لكن هذا لا يجيب عن سؤالي"),
    },
}

# ---------------------------------------------------------------- thread follow-ups (comments)

THREAD = {
    "agree": {
        "en": ("Same here on {street}", "Same problem here", "This! 👆", "+1, been like this for ages", "Any update on this?", "Did you get an answer?", "Following"),
        "ar": ("نفس المشكلة عندنا في {street}", "أؤيد هذا 👆", "هل من جديد؟", "هل حصلت على رد؟", "ونحن أيضاً"),
    },
    "rumour": {
        "en": ("Is this confirmed? Source?", "This isn't true, stop spreading panic", "My friend at the water company says it's fake", "Can someone official confirm or deny this?"),
        "ar": ("هل هذا مؤكد؟ ما المصدر؟", "هذا غير صحيح، توقفوا عن نشر الذعر", "نريد تأكيداً أو نفياً رسمياً"),
    },
    "flood": {
        "en": ("Stay safe everyone", "We're in {hood} too, water still rising", "Thinking of you all 🙏", "Did anyone get through on the emergency line?", "Sandbags at {place} if anyone needs them"),
        "ar": ("ابقوا بأمان جميعاً", "نحن أيضاً في {hood} والمياه ما زالت ترتفع", "قلوبنا معكم 🙏", "هل استطاع أحد الوصول إلى خط الطوارئ؟"),
    },
    "self": {
        "en": ("Update: still no answer", "Update: it's worse now", "Still waiting...", "Update: someone's been out to look at it, thanks"),
        "ar": ("تحديث: لا يوجد رد حتى الآن", "تحديث: الوضع أسوأ الآن", "ما زلنا ننتظر..."),
    },
}

EDIT_SUFFIX = {
    "en": ("\n\nEdit: it's been sorted now, thanks.", "\n\nEDIT: sorry, I meant {street2}", " (edit: typo)", "\n\nUpdate: someone from the council called me back."),
    "ar": ("\n\nتعديل: تم حل المشكلة، شكراً", "\n\nتعديل: أقصد {street2} وليس {street}", "\n\nتحديث: اتصل بي أحد موظفي البلدية"),
}

# ---------------------------------------------------------------- public chatter (the search stream)

CHATTER = {
    "normal": {
        "en": (
            "Beautiful sunset over the {river} tonight",
            "Traffic on {street} is terrible this morning",
            "Anyone know a good plumber in {hood}?",
            "{city} market is buzzing today",
            "Roadworks on {street} AGAIN",
            "Lovely walk by the {river} with the dog",
            "Power's out in {hood}, anyone else?",
            "Bin day chaos in {hood} again",
            "Heavy rain forecast for {city} this weekend",
            "{city} FC won 2-1! What a game",
            "New coffee shop on {street} is amazing",
            "Council meeting tonight about the budget, worth watching",
            "Potholes on {street} are a joke",
            "Lost cat in {hood}, ginger, answers to Biscuit. Please share",
            "Does anyone know why there are police cars on {street}?",
        ),
        "ar": (
            "غروب جميل فوق {river} الليلة",
            "الزحام في {street} رهيب هذا الصباح",
            "هل يعرف أحد سبّاكاً جيداً في {hood}؟",
            "سوق {city} مزدحم اليوم",
            "انقطعت الكهرباء في {hood}، هل عند أحدكم نفس الشيء؟",
            "توقعات بأمطار غزيرة على {city} نهاية هذا الأسبوع",
            "افتُتح مقهى جديد في {street}، قهوته ممتازة",
            "قطة ضائعة في {hood}، لونها برتقالي، أرجو المشاركة",
        ),
    },
    "flood": {
        "en": (
            "Flash flood in {city}, {street} under water {tag}",
            "Praying for everyone in {hood} tonight",
            "Roads closed everywhere, stuck at work in the town centre",
            "Is the {dam} going to hold? Genuinely scared",
            "Helicopter circling over {hood} for the last hour",
            "Never seen the {river} like this. Stay safe {city}",
            "Heard the dam burst upstream, can anyone confirm?",
            "Flooding recipe for disaster: no drains cleared for years",
            "Can't believe how fast the water came up on {street}",
        ),
        "ar": (
            "فيضان مفاجئ في {city}، {street} تحت الماء {tag}",
            "ندعو لكل أهالي {hood} الليلة",
            "هل سيصمد {dam}؟ أنا خائف فعلاً",
            "سيول في كل مكان والطرق مغلقة، عالقون في العمل",
            "سمعت أن السد انهار، هل يمكن لأحد التأكيد؟",
            "لم أرَ {river} هكذا من قبل، ابقوا بأمان يا أهل {city}",
        ),
    },
    "recovery": {
        "en": (
            "Clean-up day in {hood}, half the street out with brooms",
            "Insurance company says 6 weeks before anyone can come. Brilliant.",
            "{street} finally drying out. The smell though",
        ),
        "ar": (
            "يوم تنظيف في {hood}، نصف الشارع يعمل معاً",
            "شركة التأمين تقول إن أحداً لن يأتي قبل ستة أسابيع",
        ),
    },
}
